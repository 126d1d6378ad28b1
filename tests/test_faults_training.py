"""Training faults through Snakemake: a killed job resumes; a diverging one stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake, smoke_config, snakemake_cmd

from rnnlab.verify import is_timing_key

RUN = "results/sentiment/runs/{model}_L10_s0"


def training_config(workdir: Path, **hyper) -> Path:
    """The smoke config with a longer training (so a kill lands mid-run) and `hyper` edits."""
    base = yaml.safe_load(smoke_config(workdir).read_text())
    base["sentiment"]["hyper"].update({"max_epochs": 12, "patience": 12, **hyper})
    path = workdir / "train-config.yaml"
    path.write_text(yaml.safe_dump(base))
    return path


def metrics_without_timings(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if not is_timing_key(k)}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("uninterrupted")
    run_snakemake(workdir, training_config(workdir), RUN.format(model="lstm") + "/metrics.json")
    return workdir / RUN.format(model="lstm")


def test_sigkill_mid_training_then_rerun_resumes_with_identical_metrics(tmp_path, uninterrupted):
    configfile = training_config(tmp_path)
    run_dir = tmp_path / RUN.format(model="lstm")
    # Data first, so the kill lands in training.
    run_snakemake(tmp_path, configfile, "results/data/imdb/encoded.pt")
    job = subprocess.Popen(
        snakemake_cmd(tmp_path, configfile, RUN.format(model="lstm") + "/metrics.json", cores=1),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not (run_dir / "last.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert (run_dir / "last.pt").exists(), "training never saved an epoch"
    assert not (run_dir / "metrics.json").exists(), "the job finished before the kill"

    # A hard kill leaves Snakemake's lock behind: the documented recovery is --unlock,
    # then the same command (--rerun-incomplete, as the default profile sets it).
    run_snakemake(tmp_path, configfile, "--unlock")
    run_snakemake(
        tmp_path, configfile, "--rerun-incomplete", RUN.format(model="lstm") + "/metrics.json"
    )
    log = (tmp_path / "logs" / "sentiment_train" / "lstm_L10_s0.log").read_text()
    assert "resuming from" in log
    assert metrics_without_timings(run_dir) == metrics_without_timings(uninterrupted)


def test_diverging_training_stops_with_a_clear_message_and_keeps_other_results(tmp_path):
    good = training_config(tmp_path, max_epochs=1)
    run_snakemake(tmp_path, good, RUN.format(model="lstm") + "/metrics.json")
    finished = (tmp_path / RUN.format(model="lstm") / "metrics.json").read_bytes()

    # Adam moves each weight by about lr per step; 3e37 sends the logit past float32's
    # range (3.4e38) within the first epoch, so the loss becomes inf. (A larger lr
    # overflows inside Adam itself, a smaller one saturates tanh and stays finite.)
    bad = training_config(tmp_path, max_epochs=1, lr=3e37)
    proc = run_snakemake(tmp_path, bad, RUN.format(model="rnn") + "/metrics.json", check=False)
    assert proc.returncode != 0
    log = (tmp_path / "logs" / "sentiment_train" / "rnn_L10_s0.log").read_text()
    assert "training diverged" in log and "sentiment.hyper.lr" in log and "Traceback" not in log
    assert not (tmp_path / RUN.format(model="rnn") / "metrics.json").exists()
    # What was computed before is untouched: the other run and the prepared data.
    assert (tmp_path / RUN.format(model="lstm") / "metrics.json").read_bytes() == finished
    assert (tmp_path / "results" / "data" / "imdb" / "encoded.pt").exists()
