"""Mistakes stop the workflow before Snakemake deletes any output (issue 20, case 5).

Each test copies the finished smoke run and repeats it with one mistake: the run
must fail naming the key, leave every existing output as it was, and, once the
mistake is undone, have nothing expensive to redo.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from conftest import planned_jobs, run_snakemake
from fixtures import write_power_file

FORECAST_RUNS = "results/forecast/runs"


def _copy(smoke_run: Path, tmp_path: Path) -> tuple[Path, dict]:
    work = tmp_path / "work"
    shutil.copytree(smoke_run, work, symlinks=True)
    return work, yaml.safe_load((work / "smoke-config.yaml").read_text())


def _config(work: Path, config: dict, name: str) -> Path:
    path = work / name
    path.write_text(yaml.safe_dump(config))
    return path


def _snapshot(work: Path) -> dict[str, tuple[int, bytes]]:
    files = [p for p in (work / "results").rglob("*") if p.is_file()]
    return {str(p.relative_to(work)): (p.stat().st_mtime_ns, p.read_bytes()) for p in files}


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["forecast"].update(lr=float("inf")), "forecast.lr"),
        (lambda c: c["sentiment"]["hyper"].update(lr=float("nan")), "sentiment.hyper.lr"),
        (
            lambda c: c["power"].update(split_fractions={"train": 0.7, "val": 0.2, "test": 0.15}),
            "power.split_fractions",
        ),
    ],
)
def test_bad_config_stops_before_any_job(smoke_run, tmp_path, edit, key):
    work, config = _copy(smoke_run, tmp_path)
    edit(config)
    proc = run_snakemake(work, _config(work, config, "bad.yaml"), check=False)
    assert proc.returncode != 0
    assert f"config error at {key}" in proc.stdout + proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_fails_before_any_training_is_touched(smoke_run, tmp_path):
    work, config = _copy(smoke_run, tmp_path)
    before = _snapshot(work)
    config["device"] = "cuda"
    proc = run_snakemake(work, _config(work, config, "cuda.yaml"), check=False)
    assert proc.returncode != 0
    assert "torch sees no CUDA GPU" in (work / "logs" / "device_check.log").read_text()
    after = _snapshot(work)
    assert {k: v for k, v in after.items() if k in before} == before


def test_wrong_power_archive_fails_before_the_prepared_series_is_deleted(smoke_run, tmp_path):
    work, config = _copy(smoke_run, tmp_path)
    before = _snapshot(work)
    good = _config(work, config, "good.yaml")
    wrong = work / "data" / "other-power.txt.gz"
    write_power_file(wrong, minutes=2 * 1440, seed=7)  # another file, same format
    config["power"]["archive"] = str(wrong)
    proc = run_snakemake(work, _config(work, config, "wrong.yaml"), check=False)
    assert proc.returncode != 0
    assert "power.sha256" in (work / "logs" / "power_checksum.log").read_text()
    assert _snapshot(work) == before
    # Undone: nothing to redo (the good archive's checksum file was never touched).
    assert planned_jobs(work, good) == {}
