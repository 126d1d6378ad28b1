"""Q6-A training: determinism, early stopping, outputs, aggregation, CLI errors.

Kills, resumes and the fingerprint are tested with the engine, in test_training.py.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from rnnlab.errors import RnnlabError
from rnnlab.sentiment.models import load_checkpoint
from rnnlab.sentiment.train import Hyper, train_run

# Fields that measure the machine, not the result.
TIMING = {"train_seconds", "tokens_per_s", "cpu_seconds"}
TINY = {"embed_dim": 8, "hidden_size": 8, "batch_size": 16, "eval_batch_size": 32}


def make_encoded(path: Path, seed: int = 0, max_length: int = 16) -> Path:
    """An encoded.pt in the layout of the imdb_encode rule, with a learnable signal.

    Token 2 marks positive reviews and token 3 negative ones (mixed with noise
    tokens 4..19); lengths vary and some reviews are longer than `max_length`.
    """
    gen = torch.Generator().manual_seed(seed)

    def split(n: int) -> dict:
        labels = torch.arange(n) % 2
        lengths = torch.randint(3, max_length + 6, (n,), generator=gen)
        ids = torch.zeros(n, max_length, dtype=torch.int32)
        for i in range(n):
            stored = min(int(lengths[i]), max_length)
            row = torch.randint(4, 20, (stored,), generator=gen)
            cue = torch.rand(stored, generator=gen) < 0.3
            row[cue] = 2 if labels[i] == 1 else 3
            ids[i, :stored] = row.int()
        return {
            "ids": ids,
            "lengths": lengths.long(),
            "labels": labels.long(),
            "keys": [f"r{i}" for i in range(n)],
        }

    data = {
        "train": split(96),
        "val": split(32),
        "test": split(32),
        "vocab_size": 20,
        "pad_id": 0,
        "unk_id": 1,
        "max_length": max_length,
        "truncation": "head",
    }
    torch.save(data, path)
    return path


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> Path:
    return make_encoded(tmp_path_factory.mktemp("data") / "encoded.pt")


def without_timing(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING}


def curve_without_timing(run_dir: Path) -> list[dict]:
    with open(run_dir / "curve.csv", newline="") as handle:
        return [
            {k: v for k, v in row.items() if k not in {"seconds", "tokens_per_s", "cpu_seconds"}}
            for row in csv.DictReader(handle)
        ]


def fit(encoded: Path, out: Path, cell: str = "lstm", **hyper) -> dict:
    params = {**TINY, "max_epochs": 3, "patience": 3, **hyper}
    return train_run(encoded, cell, 12, 0, Hyper.from_dict(params), out, log=lambda _: None)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_training_learns_and_is_deterministic(encoded, tmp_path, cell):
    first = fit(encoded, tmp_path / "a", cell=cell, max_epochs=4, lr=0.02)
    second = fit(encoded, tmp_path / "b", cell=cell, max_epochs=4, lr=0.02)
    assert without_timing(first) == without_timing(second)
    assert curve_without_timing(tmp_path / "a") == curve_without_timing(tmp_path / "b")
    # The cue tokens make the task easy: a working loop gets well above chance.
    assert first["val_acc"] > 0.8
    assert first["n_train"] == 96 and first["length"] == 12
    # The run leaves its outputs and keeps the resume state (it cannot go stale).
    run = tmp_path / "a"
    left = {p.name for p in run.iterdir()}
    assert left == {"best.pt", "metrics.json", "curve.csv", "predictions.npz", "last.pt"}
    assert json.loads((run / "metrics.json").read_text())["test_acc"] == first["test_acc"]
    assert first["epochs_run"] == first["max_epochs"] == 4
    assert first["cap_bound"] is not first["stopped_early"]


def test_predictions_hold_each_test_review_in_split_order(encoded, tmp_path):
    metrics = fit(encoded, tmp_path / "run", max_epochs=2)
    saved = np.load(tmp_path / "run" / "predictions.npz")
    assert saved["label"].dtype == np.int8 and saved["logit"].dtype == np.float32
    assert saved["correct"].dtype == bool
    labels = torch.load(encoded, weights_only=False)["test"]["labels"].numpy()
    assert np.array_equal(saved["label"], labels)
    assert np.array_equal(saved["correct"], (saved["logit"] > 0) == (saved["label"] == 1))
    assert saved["correct"].mean() == pytest.approx(metrics["test_acc"])
    cut = torch.load(encoded, weights_only=False)["test"]["lengths"].numpy() > 12
    assert saved["correct"][cut].mean() == pytest.approx(metrics["test_acc_cut"])


def test_best_checkpoint_reproduces_the_reported_test_accuracy(encoded, tmp_path):
    metrics = fit(encoded, tmp_path / "run", max_epochs=4, lr=0.02)
    model = load_checkpoint(tmp_path / "run" / "best.pt")
    data = torch.load(encoded, weights_only=False)
    ids = data["test"]["ids"][:, :12].long()
    lengths = data["test"]["lengths"].clamp(max=12)
    with torch.no_grad():
        acc = float(((model(ids, lengths) > 0).long() == data["test"]["labels"]).float().mean())
    assert acc == pytest.approx(metrics["test_acc"])
    checkpoint = torch.load(tmp_path / "run" / "best.pt", weights_only=False)
    assert checkpoint["epoch"] == metrics["best_epoch"]


def test_early_stopping_keeps_the_best_epoch(encoded, tmp_path):
    # A huge learning rate makes validation accuracy stall quickly.
    metrics = fit(encoded, tmp_path / "run", max_epochs=30, patience=1, lr=0.5)
    assert metrics["stopped_early"] and not metrics["cap_bound"]
    assert metrics["epochs_run"] == metrics["best_epoch"] + 1
    with open(tmp_path / "run" / "curve.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    best_val = max(float(r["val_acc"]) for r in rows)
    assert metrics["val_acc"] == pytest.approx(best_val, abs=1e-6)


def test_bad_hyper_parameters_and_lengths_are_named(encoded, tmp_path):
    with pytest.raises(RnnlabError, match="unknown sentiment hyper-parameter"):
        Hyper.from_dict({"learning_rate": 0.1})
    with pytest.raises(RnnlabError, match="out of range"):
        Hyper.from_dict({"lr": 0})
    with pytest.raises(RnnlabError, match="exceeds the stored imdb.max_length"):
        train_run(encoded, "lstm", 64, 0, Hyper.from_dict(TINY), tmp_path, log=lambda _: None)
    with pytest.raises(RnnlabError, match="imdb_encode"):
        train_run(tmp_path / "none.pt", "rnn", 8, 0, Hyper(), tmp_path, log=lambda _: None)


def test_cli_reports_user_errors_in_one_line(encoded, tmp_path):
    cmd = [sys.executable, "-m", "rnnlab.sentiment.train", "fit", "--data", str(encoded)]
    cmd += ["--model", "rnn", "--length", "8", "--seed", "0", "--out-dir", str(tmp_path)]
    proc = subprocess.run([*cmd, "--hyper", '{"lr": "fast"'], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("rnnlab error: --hyper is not valid JSON")
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_pipeline_trains_every_run_and_rebuilds_a_deleted_run(smoke_run, tmp_path):
    from conftest import run_snakemake

    config = yaml.safe_load((smoke_run / "smoke-config.yaml").read_text())
    lengths = config["sentiment"]["lengths"]
    table = (smoke_run / "results" / "sentiment" / "accuracy.csv").read_text().splitlines()
    assert len(table) == 1 + 2 * len(lengths)
    summary = json.loads((smoke_run / "results" / "sentiment" / "summary.json").read_text())
    assert summary["lengths"] == sorted(lengths) and summary["models"] == ["rnn", "lstm"]
    assert (smoke_run / "results" / "sentiment" / "accuracy_vs_length.svg").stat().st_size > 0
    # In a copy of the finished run: Snakemake deletes a job's outputs before rerunning it
    # (--forcerun, a killed job); the job then rebuilds them from last.pt, same numbers.
    work = tmp_path / "copy"
    shutil.copytree(smoke_run, work, symlinks=True)
    run = work / "results" / "sentiment" / "runs" / f"lstm_L{lengths[-1]}_s0"
    before = json.loads((run / "metrics.json").read_text())
    target = str(run.relative_to(work) / "metrics.json")
    # (the target goes first: --forcerun takes every name that follows it)
    run_snakemake(work, work / "smoke-config.yaml", target, "--forcerun", "sentiment_train")
    log = (work / "logs" / "sentiment_train" / f"lstm_L{lengths[-1]}_s0.log").read_text()
    assert "resuming from" in log
    assert json.loads((run / "metrics.json").read_text()) == before
