"""The stopping-rule replay script (scripts/q6_stopping_replay.py) against the engine's rule."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

from rnnlab import training

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "q6_stopping_replay.py"


@pytest.fixture(scope="module")
def replay_module():
    spec = importlib.util.spec_from_file_location("q6_stopping_replay", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


# A Simple RNN that sits at chance for three epochs, then learns (the reference run's shape).
SLOW_START = [0.502, 0.490, 0.490, 0.529, 0.556, 0.565, 0.601, 0.600, 0.602, 0.604]


def engine_stop(curve: list[float], patience: int, min_delta: float) -> tuple[int, int]:
    """Where the engine's own improvement test (`training._improved`) stops, and what it keeps."""
    best, kept, bad = math.nan, 0, 0
    for epoch, value in enumerate(curve, start=1):
        if training._improved(value, best, "max", min_delta):
            best, kept, bad = value, epoch, 0
        else:
            bad += 1
        if bad >= patience:
            return epoch, kept
    return len(curve), kept


@pytest.mark.parametrize("patience", [1, 2, 3])
@pytest.mark.parametrize("min_delta", [0.0, 0.002, 0.01])
def test_replay_agrees_with_the_engine(replay_module, patience, min_delta):
    r = replay_module.replay(SLOW_START, patience, min_delta, 0)
    assert (r.epochs, r.kept) == engine_stop(SLOW_START, patience, min_delta)


def test_min_epochs_carries_a_slow_start_past_its_plateau(replay_module):
    early = replay_module.replay(SLOW_START, 2, 0.002, 0)
    assert (early.epochs, early.kept, early.within_curve) == (3, 1, True)  # kept untrained
    warm = replay_module.replay(SLOW_START, 2, 0.002, 4)
    # epoch 4 improves on epoch 1, learning goes on; 0.600/0.602 do not beat 0.601 + 0.002
    assert (warm.epochs, warm.kept, warm.within_curve) == (9, 7, True)


def test_a_rule_that_does_not_fire_says_so(replay_module):
    rising = [0.5 + 0.01 * i for i in range(6)]
    r = replay_module.replay(rising, 2, 0.002, 0)
    assert (r.epochs, r.kept, r.within_curve) == (6, 6, False)


def test_load_curves_reads_a_run_folder(replay_module, tmp_path):
    run = tmp_path / "rnn_L50_s0"
    run.mkdir()
    with open(run / "curve.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["epoch", "val_acc", "cpu_seconds"])
        writer.writeheader()
        for epoch, value in enumerate(SLOW_START[:4], start=1):
            writer.writerow({"epoch": epoch, "val_acc": value, "cpu_seconds": 10.0})
    (run / "metrics.json").write_text(json.dumps({"cpu_seconds": 43.5, "max_epochs": 16}))
    (curve,) = replay_module.load_curves(tmp_path)
    assert curve.name == "rnn_L50_s0"
    assert curve.val_acc == SLOW_START[:4]
    assert curve.other_cpu == pytest.approx(3.5)
    assert curve.max_epochs == 16
