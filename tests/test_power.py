"""Power data: streaming read + checksum, resampling, gap rule, splits, windows, scaler."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures import write_power_file  # noqa: F401  (used by other test modules too)

from rnnlab.data import power
from rnnlab.errors import RnnlabError


def prep_config(sha: str, **overrides: object) -> power.PrepConfig:
    cfg = {
        "resolution_minutes": 10,
        "min_coverage": 0.5,
        "max_gap_steps": 2,
        "split_fractions": {"train": 0.7, "val": 0.15, "test": 0.15},
        "target": "Global_active_power",
        "sha256": [sha],
    }
    return power.PrepConfig.from_dict(cfg | overrides)


@pytest.mark.parametrize("form", ["gz", "zip", "txt"])
def test_read_minutes_streams_every_form_and_verifies_the_text_hash(
    tmp_path: Path, form: str
) -> None:
    path = tmp_path / f"power.{form}"
    sha = write_power_file(path, minutes=300, missing=((10, 13),), form=form)
    frame, found, nbytes = power.read_minutes(path, [sha])
    assert found == sha and nbytes > 0
    assert list(frame.columns) == power.FEATURES
    assert len(frame) == 300
    assert frame.iloc[10:13].isna().all().all() and not frame.iloc[13].isna().any()
    assert frame.index[0] == pd.Timestamp("2006-12-16 17:24:00")


def test_checksum_mismatch_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "power.txt.gz"
    write_power_file(path, minutes=50)
    with pytest.raises(RnnlabError, match="power.sha256"):
        power.read_minutes(path, ["0" * 64])


def test_wrong_header_and_bad_order_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "other.txt"
    bad.write_text("a;b;c\n1;2;3\n")
    with pytest.raises(RnnlabError, match="UCI header"):
        power.read_minutes(bad, [])
    path = tmp_path / "dup.txt"
    write_power_file(path, minutes=20, form="txt")
    lines = path.read_bytes().split(b"\r\n")
    lines.insert(5, lines[4])  # a duplicated minute
    path.write_bytes(b"\r\n".join(lines))
    minutes, _, _ = power.read_minutes(path, [])
    with pytest.raises(RnnlabError, match="increase strictly"):
        power.to_grid(minutes, path)


def test_resample_requires_coverage_and_short_gaps_are_interpolated() -> None:
    index = pd.date_range("2007-01-01 00:00", periods=40, freq="min")
    frame = pd.DataFrame(
        np.arange(40.0)[:, None].repeat(7, axis=1), index=index, columns=power.FEATURES
    )
    frame.iloc[10:17] = np.nan  # 7 of 10 minutes of the second bucket missing
    steps = power.resample(frame, 10, 0.5)
    assert len(steps) == 4
    assert steps.iloc[0, 0] == pytest.approx(4.5)
    assert steps.iloc[1].isna().all()  # 3/10 present < 50% coverage
    assert steps.iloc[2, 0] == pytest.approx(24.5)

    values = np.arange(12.0)[:, None].repeat(2, axis=1)
    values[3] = np.nan  # a 1-step gap: filled
    values[6:9] = np.nan  # a 3-step gap: longer than max_gap=2, left open
    filled, count = power.fill_short_gaps(values, max_gap=2)
    assert count == 1
    assert filled[3, 0] == pytest.approx(3.0)
    assert np.isnan(filled[6:9]).all()


def _series(tmp_path: Path, **kw: object) -> power.Series:
    path = tmp_path / "p.txt.gz"
    sha = write_power_file(path, minutes=3000, missing=((1200, 1260),), **kw)
    arrays, report = power.prepare(path, prep_config(sha))
    return power.Series(
        values=arrays["values"],
        stamps=arrays["stamps"],
        bounds={k: [v["start"], v["end"]] for k, v in report["splits"].items()},
        target_index=0,
        target_mean=report["target_mean"],
        target_std=report["target_std"],
    )


def test_windows_stay_inside_their_split_and_avoid_long_gaps(tmp_path: Path) -> None:
    series = _series(tmp_path)
    assert (~series.valid).sum() > 0  # the 60-minute hole is longer than max_gap_steps
    # Stamps are nanoseconds: the first 10-minute bucket starts at 17:20 on the first day.
    assert np.datetime64(int(series.stamps[0]), "ns") == np.datetime64("2006-12-16T17:20")
    assert np.all(np.diff(series.stamps) == 600 * 10**9)
    length = 12
    for split in power.SPLITS:
        start, end = series.bounds[split]
        targets = power.window_targets(series, split, length)
        assert len(targets) > 0
        assert (targets - length >= start).all() and (targets < end).all()
        x, y = power.windows_for(series, targets, length)
        assert x.shape == (len(targets), length, 7)
        assert np.isfinite(x).all() and np.isfinite(y).all()
        # the target is the step right after the inputs
        assert np.array_equal(series.values[targets - 1, 0], x[:, -1, 0])
    # Splits are disjoint and ordered: no target of one split is a step of another.
    train_end = series.bounds["train"][1]
    val = power.window_targets(series, "val", length)
    assert val.min() >= train_end + length
    # Common targets: a subset valid for the longest window.
    common = power.window_targets(series, "test", length, common_length=24)
    assert set(common) <= set(power.window_targets(series, "test", length))
    assert set(common) == set(power.window_targets(series, "test", 24))


def test_scaler_uses_the_training_split_only(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    sha = write_power_file(path, minutes=2000, form="txt")
    base, report = power.prepare(path, prep_config(sha))
    # Blow up every value after the training split: the scaler must not move.
    lines = path.read_bytes().split(b"\r\n")
    train_end_minute = report["splits"]["train"]["end"] * 10
    for k in range(1 + train_end_minute + 20, len(lines) - 1):
        date, clock, *vals = lines[k].decode().split(";")
        lines[k] = ";".join([date, clock, *(f"{float(v) * 50:.3f}" for v in vals)]).encode()
    changed = tmp_path / "changed.txt"
    changed.write_bytes(b"\r\n".join(lines))
    sha2 = hashlib.sha256(changed.read_bytes()).hexdigest()
    other, _ = power.prepare(changed, prep_config(sha2))
    assert np.allclose(base["mean"], other["mean"]) and np.allclose(base["std"], other["std"])
    train_end = report["splits"]["train"]["end"]
    train = base["values"][:train_end]
    assert np.allclose(np.nanmean(train, axis=0), 0, atol=1e-5)
    assert np.allclose(np.nanstd(train, axis=0), 1, atol=1e-4)


def test_bad_split_fractions_are_refused() -> None:
    with pytest.raises(RnnlabError, match="sum to 1"):
        prep_config("0" * 64, split_fractions={"train": 0.8, "val": 0.15, "test": 0.15})
