"""Q7 end to end: a tiny synthetic minute file in the UCI format through the Snakemake rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rnnlab.forecast import analysis

sys.path.insert(0, str(Path(__file__).parent))
from conftest import run_snakemake  # noqa: E402
from fixtures import write_power_file  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _snakemake(workdir: Path, config: Path, *targets: str) -> subprocess.CompletedProcess:
    # The smoke config, then this test's data on top of it. `--configfile` takes every
    # word up to the next option, so `--cores` ends the list before the targets.
    smoke = REPO / "config" / "smoke.yaml"
    return run_snakemake(
        workdir,
        smoke,
        "--configfile",
        str(smoke),
        str(config),
        "--cores",
        "2",
        *targets,
        check=False,
    )


@pytest.mark.slow
def test_q7_pipeline_on_a_tiny_series(tmp_path: Path) -> None:
    archive = tmp_path / "power.txt.gz"
    # 4 days of minutes at 10-minute steps = 576 steps, with one long outage.
    sha = write_power_file(archive, minutes=4 * 1440, missing=((2000, 2100),))
    config = tmp_path / "test.yaml"
    config.write_text(yaml.safe_dump({"power": {"archive": str(archive), "sha256": [sha]}}))
    target = "results/forecast/summary.json"
    done = _snakemake(tmp_path, config, target)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    summary = json.loads((tmp_path / target).read_text())
    assert summary["data"]["minute_rows"] == 4 * 1440
    assert summary["data"]["unfilled_steps"] > 0  # the 100-minute outage stays open
    assert set(summary["a"]["rows"]) == {"rnn", "lstm", "gru", "bilstm"}
    assert summary["c"]["lengths"] == [6, 12, 24]
    assert summary["e"]["order"] == list(analysis.ABLATION_VARIANTS)
    assert sorted(summary["e"]["ranking"]) == sorted(analysis.ABLATION_VARIANTS)
    assert summary["b"]["deviation"]["lstm"] < 1e-4
    assert set(summary["b"]["chosen"]) == {"calm", "peak", "typical"}
    assert summary["n_seeds"] == 2 and summary["train_subsample"] == 1
    for model, row in summary["a"]["rows"].items():
        assert row["mse"]["mean"] > 0 and len(row["mse"]["values"]) == 2, model
    assert set(summary["a"]["baselines"]) == {"persistence", "seasonal_naive", "ridge"}
    assert summary["claims"]["q7.a.lstm_vs_ridge"]["kind"] == "paired_errors"
    for rule in ("power_prepare", "forecast_gates", "forecast_baselines"):
        assert (tmp_path / "benchmarks" / f"{rule}.tsv").exists()
    assert (tmp_path / "benchmarks" / "forecast_train" / "lstm_L12_s1.tsv").exists()

    # Nothing to do on a rerun; a new seed trains only its own runs, not the data preparation.
    again = _snakemake(tmp_path, config, target, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    config.write_text(
        yaml.safe_dump(
            {"power": {"archive": str(archive), "sha256": [sha]}, "forecast": {"seeds": [0, 1, 2]}}
        )
    )
    dry = _snakemake(tmp_path, config, target, "-n")
    out = dry.stdout + dry.stderr
    assert "forecast_train" in out and "power_prepare" not in out
    assert "lstm_L12_s2" in out


def test_a_wrong_archive_path_fails_with_the_config_key(tmp_path: Path) -> None:
    config = tmp_path / "test.yaml"
    config.write_text(yaml.safe_dump({"power": {"archive": str(tmp_path / "absent.txt.gz")}}))
    done = _snakemake(tmp_path, config, "results/data/power/prep.json")
    assert done.returncode != 0
    assert "absent.txt.gz" in done.stdout + done.stderr
