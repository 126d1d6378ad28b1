"""Q7-b statistics and Q7 baselines on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data.power import Series
from rnnlab.forecast import baselines, gates


def test_partial_correlation_removes_the_shared_input_level() -> None:
    rng = np.random.default_rng(0)
    level = rng.normal(size=(200, 30))
    # Both gates only follow the level: raw correlation high, partial near zero.
    a = level + 0.3 * rng.normal(size=level.shape)
    b = level + 0.3 * rng.normal(size=level.shape)
    stats = gates.partial_stats(a, b, level, seed=0)
    assert stats["raw"] > 0.8 and abs(stats["r"]) < 0.05
    assert stats["ci95"][0] < 0 < stats["ci95"][1]
    # A shared signal beyond the level survives the control.
    shared = rng.normal(size=level.shape)
    stats = gates.partial_stats(
        level + shared, level + shared + 0.1 * rng.normal(size=level.shape), level, seed=0
    )
    assert stats["r"] > 0.9 and stats["ci95"][0] > 0.9


def test_remembering_moments_follow_the_stated_rule() -> None:
    rng = np.random.default_rng(1)
    forget = 0.5 + 0.01 * rng.normal(size=(50, 20))
    inp = 0.5 + 0.01 * rng.normal(size=(50, 20))
    moments = gates.remember_moments(forget, inp)
    assert moments.mean() == pytest.approx(gates.REMEMBER_SHARE, abs=0.01)
    score = forget - inp
    assert score[moments].min() >= score[~moments].max()
    # Moments placed where the level is high: the level contrast is positive with its interval.
    level = rng.normal(size=(50, 20)) + 3.0 * moments
    stats = gates.remember_stats(moments, level, hours=np.zeros((50, 20), dtype=int), seed=0)
    assert stats["level_diff"]["value"] > 2 and stats["level_diff"]["ci95"][0] > 2
    # The two means the report prints differ by exactly the contrast it prints beside them.
    assert stats["level_at"] - stats["level_elsewhere"] == pytest.approx(
        stats["level_diff"]["value"], abs=1e-12
    )
    assert stats["night_share_at"] == 1.0


def test_gate_ranges_report_the_spread_that_is_there() -> None:
    mean = np.full((4, 10), 0.5)
    mean[2, 3] = 0.52
    ranges = gates.gate_ranges(mean)
    assert ranges["range"] == pytest.approx(0.02)
    assert ranges["temporal_spread_max"] == pytest.approx(np.std(mean[2]))
    assert ranges["temporal_spread"] < ranges["temporal_spread_max"]


def _series(steps: int = 24 * 40) -> Series:
    rng = np.random.default_rng(2)
    hours = np.arange(steps)
    target = np.sin(2 * np.pi * hours / 24) + 0.1 * rng.normal(size=steps)
    values = np.c_[target, rng.normal(size=steps)].astype(np.float64)
    values[500:510] = np.nan  # a long gap
    bounds = {"train": [0, 600], "val": [600, 780], "test": [780, steps]}
    return Series(values, hours.astype(np.int64) * 3_600_000_000_000, bounds, 0, 0.0, 1.0)


def test_baselines_share_the_test_targets_and_ridge_learns_the_cycle() -> None:
    summary, arrays = baselines.compute(_series(), [24, 48], 60)
    assert summary["n_test"] == len(arrays["targets"])
    for n in ("24", "48"):
        scores = summary["by_length"][n]
        # A clean daily cycle: same hour yesterday and ridge beat repeating the last hour.
        assert scores["seasonal_naive"]["mse"] < scores["persistence"]["mse"]
        assert scores["ridge"]["mse"] < scores["persistence"]["mse"]
        assert scores["ridge"]["alpha"] in baselines.ALPHAS
    err = arrays["persistence_L24"]
    assert np.mean(err**2) == pytest.approx(summary["by_length"]["24"]["persistence"]["mse"])
    assert summary["lag"]["persistence"]["lag"] == 1


def test_seasonal_naive_reads_the_series_even_for_windows_shorter_than_a_day() -> None:
    series = _series()
    summary, arrays = baselines.compute(series, [12, 48], 60)
    targets = arrays["targets"]
    truth = series.values[targets, 0]
    expected = series.values[targets - 24, 0]
    expected = np.where(np.isnan(expected), series.values[targets - 1, 0], expected)
    assert np.allclose(arrays["seasonal_naive_L12"], expected - truth)
    assert summary["by_length"]["12"]["seasonal_naive"]["fallbacks"] == 0
