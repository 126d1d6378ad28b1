"""Q7 training: full passes, early stopping, scored against persistence on shared targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data import power
from rnnlab.errors import RnnlabError
from rnnlab.forecast.train import (
    convergence_epochs,
    epochs_to_skill,
    load_model,
    train_run,
    val_skill,
)


def tiny_series(steps: int = 400, seed: int = 0) -> power.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    target = np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(steps)
    values = np.stack([target] + [rng.standard_normal(steps) for _ in range(6)], axis=1)
    values[150:155] = np.nan  # a long gap no window may touch
    bounds = power.split_bounds(steps, (0.7, 0.15, 0.15))
    hour_ns = 3_600_000_000_000
    return power.Series(
        values=values.astype(np.float32),
        stamps=np.arange(steps) * hour_ns,
        bounds=bounds,
        target_index=0,
        target_mean=1.0,
        target_std=2.0,
    )


def run_cfg(**overrides: object) -> dict:
    cfg = {
        "model": "gru",
        "length": 8,
        "common_length": 12,
        "hidden": 6,
        "layers": 2,
        "max_epochs": 3,
        "patience": 3,
        "min_delta": 0.0,
        "lr_schedule": {},
        "batch_size": 32,
        "lr": 0.01,
        "grad_clip": 1.0,
        "seed": 0,
        "device": "cpu",
    }
    return cfg | overrides


def quiet(_message: str) -> None:
    pass


def test_an_epoch_is_a_full_pass_and_runs_are_deterministic(tmp_path: Path) -> None:
    series = tiny_series()
    first = train_run(series, run_cfg(), tmp_path / "a", log=quiet)
    second = train_run(series, run_cfg(), tmp_path / "b", log=quiet)
    assert first["test"] == second["test"] and first["best_epoch"] == second["best_epoch"]
    assert first["windows"]["train_per_epoch"] == first["windows"]["train"]
    assert first["epochs_run"] == 3 and first["max_epochs"] == 3 and first["cap_bound"]
    assert not first["stopped_early"] and first["seed"] == 0
    assert first["cpu_seconds"] > 0
    # the resume state stays (it cannot go stale) beside the outputs
    left = {p.name for p in (tmp_path / "a").iterdir()}
    assert left == {"model.pt", "metrics.json", "predictions.npz", "last.pt"}
    other_seed = train_run(series, run_cfg(seed=1), tmp_path / "c", log=quiet)
    assert other_seed["test"] != first["test"]


def test_early_stopping_on_validation_mse(tmp_path: Path) -> None:
    metrics = train_run(tiny_series(), run_cfg(max_epochs=40, patience=1, min_delta=0.5),
                        tmp_path / "run", log=quiet)  # fmt: skip
    # min_delta 0.5 (standardised MSE): only a large gain counts, so it stops soon.
    assert metrics["stopped_early"] and not metrics["cap_bound"]
    assert metrics["epochs_run"] == metrics["best_epoch"] + 1 < 40
    assert metrics["best_val_mse"] == metrics["history"][metrics["best_epoch"] - 1]["val_mse"]


def test_metrics_are_consistent_and_scored_on_shared_targets(tmp_path: Path) -> None:
    series = tiny_series()
    short = train_run(series, run_cfg(length=4), tmp_path / "s", log=quiet)
    long = train_run(series, run_cfg(length=12), tmp_path / "l", log=quiet)
    # Same test targets for both lengths, hence the same persistence error.
    assert short["windows"]["test"] == long["windows"]["test"]
    for key in ("mse", "mae", "mse_kw2", "mae_kw"):
        assert short["persistence"][key] == long["persistence"][key]
    # Validation keeps each length's own windows (model selection uses all it can).
    assert short["windows"]["val"] > long["windows"]["val"]
    test = short["test"]
    assert test["mse_kw2"] == pytest.approx(test["mse"] * 4.0)  # target_std = 2
    assert test["mae_kw"] == pytest.approx(test["mae"] * 2.0)
    skills = [h["val_skill"] for h in short["history"]]
    persistence_val = short["persistence"]["val_mse"]
    assert skills[0] == pytest.approx(1 - short["history"][0]["val_mse"] / persistence_val)
    assert short["epochs_to_90pct_skill"] == epochs_to_skill(skills)
    model = load_model(tmp_path / "s" / "model.pt")
    preds = np.load(tmp_path / "s" / "predictions.npz")
    x, y = power.windows_for(series, preds["targets"], 4)
    with torch.no_grad():
        again = model(torch.from_numpy(x)).numpy()
    assert np.allclose(again, preds["pred"], atol=1e-6)
    assert np.mean((again - y) ** 2) == pytest.approx(test["mse"], rel=1e-5)


def test_convergence_definitions() -> None:
    # best 1.0 -> within 10%: first <= 1.1 (epoch 3); 90% of the gain from 5.0: <= 1.4 (epoch 3)
    assert convergence_epochs([3.0, 1.5, 1.05, 1.0], initial=5.0) == {
        "within_10pct": 3,
        "gain_90pct": 3,
    }
    assert convergence_epochs([1.09, 1.2, 1.0], initial=1.1) == {"within_10pct": 1, "gain_90pct": 3}
    # skill over persistence: 90 % of the best skill 0.5 is 0.45
    assert val_skill(0.5, 1.0) == 0.5
    assert epochs_to_skill([0.1, 0.44, 0.46, 0.5]) == 3
    assert epochs_to_skill([-0.2, -0.1]) is None  # never beat persistence


def test_too_short_a_series_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RnnlabError, match="no complete window"):
        train_run(tiny_series(steps=60), run_cfg(length=20, common_length=20), tmp_path,
                  log=quiet)  # fmt: skip
