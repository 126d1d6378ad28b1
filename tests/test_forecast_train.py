"""Q7 training: deterministic, resumable per epoch, scored against persistence on shared targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data import power
from rnnlab.errors import RnnlabError
from rnnlab.forecast.train import convergence_epochs, load_model, train_run


def tiny_series(steps: int = 400, seed: int = 0) -> power.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    target = np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(steps)
    values = np.stack([target] + [rng.standard_normal(steps) for _ in range(6)], axis=1)
    values[150:155] = np.nan  # a long gap no window may touch
    bounds = power.split_bounds(steps, (0.7, 0.15, 0.15))
    hour_ns = 3_600_000_000_000
    return power.Series(values=values.astype(np.float32), stamps=np.arange(steps) * hour_ns,
                        bounds=bounds, target_index=0, target_mean=1.0, target_std=2.0)


def run_cfg(**overrides: object) -> dict:
    cfg = {"model": "gru", "length": 8, "common_length": 12, "hidden": 6, "layers": 2,
           "epochs": 3, "batch_size": 32, "lr": 0.01, "grad_clip": 1.0, "train_subsample": 2,
           "seed": 0, "device": "cpu"}
    return cfg | overrides


def test_a_killed_run_resumes_and_ends_identical(tmp_path: Path) -> None:
    series = tiny_series()
    whole = train_run(series, run_cfg(), tmp_path / "whole", tmp_path / "whole.resume.pt")
    assert whole is not None
    assert not (tmp_path / "whole.resume.pt").exists()  # removed once finished

    resume = tmp_path / "split.resume.pt"
    assert train_run(series, run_cfg(), tmp_path / "split", resume, stop_after=1) is None
    assert resume.exists() and not (tmp_path / "split" / "metrics.json").exists()
    # Scramble the global RNGs as a fresh process would have them: the resume restores them.
    torch.manual_seed(1234)
    np.random.seed(99)
    resumed = train_run(series, run_cfg(), tmp_path / "split", resume)
    assert resumed is not None
    for key in ("test", "persistence", "best_epoch", "best_val_mse", "initial_val_mse"):
        assert resumed[key] == whole[key]
    assert [h["val_mse"] for h in resumed["history"]] == [h["val_mse"] for h in whole["history"]]
    a = torch.load(tmp_path / "whole" / "model.pt", weights_only=False)["state_dict"]
    b = torch.load(tmp_path / "split" / "model.pt", weights_only=False)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_resume_file_from_other_settings_is_ignored(tmp_path: Path) -> None:
    series = tiny_series()
    resume = tmp_path / "r.pt"
    train_run(series, run_cfg(lr=0.05), tmp_path / "a", resume, stop_after=1)
    fresh = train_run(series, run_cfg(), tmp_path / "b", tmp_path / "fresh.pt")
    reused = train_run(series, run_cfg(), tmp_path / "c", resume)
    assert fresh is not None and reused is not None
    assert reused["test"] == fresh["test"]


def test_metrics_are_consistent_and_scored_on_shared_targets(tmp_path: Path) -> None:
    series = tiny_series()
    short = train_run(series, run_cfg(length=4), tmp_path / "s", tmp_path / "s.pt")
    long = train_run(series, run_cfg(length=12), tmp_path / "l", tmp_path / "l.pt")
    assert short is not None and long is not None
    # Same test targets for both lengths, hence the same persistence error.
    assert short["windows"]["test"] == long["windows"]["test"]
    for key in ("mse", "mae", "mse_kw2", "mae_kw"):
        assert short["persistence"][key] == long["persistence"][key]
    # Validation keeps each length's own windows (model selection uses all it can).
    assert short["windows"]["val"] > long["windows"]["val"]
    test = short["test"]
    assert test["mse_kw2"] == pytest.approx(test["mse"] * 4.0)  # target_std = 2
    assert test["mae_kw"] == pytest.approx(test["mae"] * 2.0)
    assert short["windows"]["train_per_epoch"] == -(-short["windows"]["train"] // 2)
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
        "within_10pct": 3, "gain_90pct": 3}
    assert convergence_epochs([1.09, 1.2, 1.0], initial=1.1) == {
        "within_10pct": 1, "gain_90pct": 3}


def test_too_short_a_series_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RnnlabError, match="no complete window"):
        train_run(tiny_series(steps=60), run_cfg(length=20, common_length=20), tmp_path,
                  tmp_path / "r.pt")
