"""UCI Individual Household Electric Power Consumption (Hebrail & Berard 2012): raw file -> series.

One Snakemake rule (`power_prepare`) turns the archive into a regular, standardised
series that every Q7 job reads; windows are cut later, per window length
(`windows_for`), so one prepared series serves the lengths 30, 60 and 120.

The rule, in order (every step a config value, every count in prep.json):

read       the `;`-separated minute file, streamed out of a .gz, a .zip (the UCI
           download) or the plain .txt; nothing is unpacked to disk. The sha256 of
           the text is computed while streaming, so the three forms are verified
           by the same hash (`power.sha256`).
grid       rows onto the full one-minute grid from the first to the last stamp; a
           duplicate or backwards stamp is an error. `?` rows and absent minutes are
           missing values.
resample   mean over `resolution_minutes` buckets (60 = hourly, the default; 1 keeps
           minutes). A bucket with fewer than `min_coverage` of its minutes present
           is missing as a whole: a mean of a few minutes is not an hourly mean.
gaps       runs of at most `max_gap_steps` missing steps are filled by linear
           interpolation (short outages, meter resets); longer runs stay missing and
           every window that touches one is dropped (`windows_for`).
split      70/15/15 of the steps in time order; a window (inputs and target) lies
           inside one split, so no value is shared across a boundary.
scale      mean and standard deviation of each feature over the training steps
           only; errors are reported standardised and, for the target, in kW.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from rnnlab.data.sources import require_file
from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, require_finite, save_npz, sha256_file, write_json, write_text

FEATURES = [
    "Global_active_power",
    "Global_reactive_power",
    "Voltage",
    "Global_intensity",
    "Sub_metering_1",
    "Sub_metering_2",
    "Sub_metering_3",
]
HEADER = ["Date", "Time", *FEATURES]
SPLITS = ("train", "val", "test")
MEMBER_NAME = "household_power_consumption.txt"


class _HashingReader(io.RawIOBase):
    """A read-only byte stream that hashes everything read through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()
        self.nbytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self.digest.update(data)
        self.nbytes += len(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Read to the end so the hash covers the whole file even if the parser stopped early."""
        while block := self.inner.read(1 << 20):
            self.digest.update(block)
            self.nbytes += len(block)


def _open_text_stream(path: Path) -> tuple[IO[bytes], list[Any]]:
    """The raw text bytes of a .gz, .zip or plain file, plus the handles to close."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        handle = gzip.open(path, "rb")  # noqa: SIM115 (closed by the caller)
        return handle, [handle]
    if magic == b"PK\x03\x04":
        archive = zipfile.ZipFile(path)
        members = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == MEMBER_NAME]
        if len(members) != 1:
            archive.close()
            raise RnnlabError(
                f"the zip {path} holds {len(members)} members named {MEMBER_NAME} "
                f"(expected exactly 1): use the UCI download unchanged or the offline .txt.gz."
            )
        handle = archive.open(members[0])
        return handle, [handle, archive]
    handle = open(path, "rb")  # noqa: SIM115 (closed by the caller, with the others)
    return handle, [handle]


def read_minutes(path: str | Path, accepted_sha256: list[str]) -> tuple[pd.DataFrame, str, int]:
    """The minute rows (index = timestamp, 7 float columns, NaN where `?`), text sha256, bytes."""
    path = require_file(path, "power consumption file", "power.archive")
    stream, handles = _open_text_stream(path)
    reader = _HashingReader(stream)
    try:
        buffered = io.BufferedReader(reader, 1 << 20)
        header = buffered.peek(512)[:512].split(b"\n", 1)[0].strip().decode("ascii", "replace")
        if header.split(";") != HEADER:
            raise RnnlabError(
                f"{path} does not start with the UCI header {';'.join(HEADER)!r} "
                f"(found {header[:120]!r}): point `power.archive` at the UCI file "
                f"household_power_consumption.txt (plain, .gz or the UCI .zip)."
            )
        frame = pd.read_csv(
            buffered,
            sep=";",
            na_values=["?", ""],
            keep_default_na=False,
            dtype={c: "float64" for c in FEATURES} | {"Date": str, "Time": str},
        )
        reader.drain()
    except (EOFError, OSError, zipfile.BadZipFile, zlib.error) as err:
        raise _corrupt(path, err) from None
    except ValueError as err:
        raise RnnlabError(
            f"{path} has a malformed value ({err}); the file is not the UCI power file "
            f"or it is damaged: replace it with a good copy."
        ) from None
    finally:
        for handle in handles:
            handle.close()
    found = reader.digest.hexdigest()
    _check_text_sha256(path, found, accepted_sha256)
    stamps = pd.to_datetime(
        frame["Date"] + " " + frame["Time"], format="%d/%m/%Y %H:%M:%S", errors="coerce"
    )
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise RnnlabError(
            f"{path}: row {row + 2} has an unreadable date/time "
            f"{frame['Date'].iloc[row]!r} {frame['Time'].iloc[row]!r} (expected d/m/yyyy hh:mm:ss)."
        )
    values = frame[FEATURES]
    values.index = pd.DatetimeIndex(stamps)
    return values, found, reader.nbytes


def _corrupt(path: str | Path, err: Exception) -> RnnlabError:
    """The error for an archive that cannot be read to its end."""
    return RnnlabError(
        f"cannot read {path}: {err}. The archive is truncated or corrupt: "
        f"replace it with a good copy."
    )


def _check_text_sha256(path: str | Path, found: str, accepted: list[str]) -> None:
    """Refuse a power text whose sha256 is not among the accepted ones (if any are given)."""
    if accepted and found not in accepted:
        raise RnnlabError(
            f"checksum mismatch for the power consumption text in {path}: expected "
            f"{' or '.join(accepted)}, found {found}. The file is damaged or a "
            f"different version: replace it with a good copy, or, if you trust it, add "
            f"its sha256 to `power.sha256`."
        )


def verify_archive(
    path: str | Path, text_sha256: list[str], archive_sha256: list[str]
) -> tuple[str, str]:
    """(sha256, how it was verified) of a power archive, or a clear error.

    The same policy as `prepare`: a known archive file is accepted by its own hash,
    any other form (the UCI zip, a plain .txt) by the hash of the text it holds.
    The text is only streamed and hashed here, not parsed.
    """
    path = require_file(path, "power consumption file", "power.archive")
    found = sha256_file(path)
    if archive_sha256 and found in archive_sha256:
        return found, "archive sha256"
    stream, handles = _open_text_stream(path)
    reader = _HashingReader(stream)
    try:
        reader.drain()
    except (EOFError, OSError, zipfile.BadZipFile, zlib.error) as err:
        raise _corrupt(path, err) from None
    finally:
        for handle in handles:
            handle.close()
    text = reader.digest.hexdigest()
    _check_text_sha256(path, text, text_sha256)
    return text, "text sha256"


@dataclass(frozen=True)
class PrepConfig:
    resolution_minutes: int
    min_coverage: float
    max_gap_steps: int
    split_fractions: tuple[float, float, float]
    target: str
    sha256: tuple[str, ...]
    archive_sha256: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> PrepConfig:
        require_finite(cfg, "power")
        fractions = tuple(float(cfg["split_fractions"][k]) for k in SPLITS)
        if abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
            raise RnnlabError(
                f"power.split_fractions {dict(zip(SPLITS, fractions, strict=True))} must be "
                f"positive and sum to 1 (the homework fixes 0.7/0.15/0.15)."
            )
        if cfg["target"] not in FEATURES:
            raise RnnlabError(f"power.target {cfg['target']!r} is not one of {FEATURES}.")
        return cls(
            resolution_minutes=int(cfg["resolution_minutes"]),
            min_coverage=float(cfg["min_coverage"]),
            max_gap_steps=int(cfg["max_gap_steps"]),
            split_fractions=fractions,  # type: ignore[arg-type]
            target=str(cfg["target"]),
            sha256=tuple(cfg.get("sha256") or ()),
            archive_sha256=tuple(cfg.get("archive_sha256") or ()),
        )


def to_grid(minutes: pd.DataFrame, path: str | Path = "the file") -> pd.DataFrame:
    """Rows on the full minute grid; refuses duplicate or backwards stamps."""
    index = minutes.index
    steps = np.diff(index.asi8)
    if len(steps) and (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0])
        raise RnnlabError(
            f"{path}: time stamps must increase strictly, but row {row + 3} "
            f"({index[row + 1]}) does not come after {index[row]}; the file is damaged."
        )
    grid = pd.date_range(index[0], index[-1], freq="min")
    return minutes.reindex(grid)


def resample(grid: pd.DataFrame, minutes_per_step: int, min_coverage: float) -> pd.DataFrame:
    """Mean per bucket of `minutes_per_step`; buckets with too few present minutes are NaN."""
    if minutes_per_step == 1:
        return grid
    # Buckets start at the first stamp floored to the resolution (e.g. whole hours).
    origin = grid.index[0].floor(f"{minutes_per_step}min")
    grouped = grid.resample(f"{minutes_per_step}min", origin=origin)
    means = grouped.mean()
    present = grouped.count().min(axis=1)
    # A value-complete row has all 7 values; coverage counts such minutes.
    means[present < min_coverage * minutes_per_step] = np.nan
    return means


def fill_short_gaps(values: np.ndarray, max_gap: int) -> tuple[np.ndarray, int]:
    """Linear interpolation across runs of <= max_gap missing steps; returns (filled, count).

    A step is missing when any of its features is; runs at the ends (no value on one
    side) are never filled.
    """
    out = values.copy()
    missing = np.isnan(out).any(axis=1)
    filled = 0
    idx = np.flatnonzero(missing)
    if len(idx) == 0 or max_gap <= 0:
        return out, 0
    # Split the missing indices into contiguous runs.
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    for start, end in zip(starts, ends, strict=True):
        length = end - start + 1
        if length > max_gap or start == 0 or end == len(out) - 1:
            continue
        left, right = out[start - 1], out[end + 1]
        weights = (np.arange(1, length + 1) / (length + 1))[:, None]
        out[start : end + 1] = left + weights * (right - left)
        filled += int(length)
    return out, filled


def split_bounds(n_steps: int, fractions: tuple[float, float, float]) -> dict[str, list[int]]:
    """Half-open [start, end) step ranges of train/val/test, in time order."""
    train_end = int(round(n_steps * fractions[0]))
    val_end = int(round(n_steps * (fractions[0] + fractions[1])))
    return {"train": [0, train_end], "val": [train_end, val_end], "test": [val_end, n_steps]}


def check_splits(values: np.ndarray, bounds: dict[str, list[int]], cfg: PrepConfig) -> None:
    """Each split holds at least two gap-free steps (one input, one target); one error names all.

    The windows of the configured forecast lengths are checked by `check_windows`.
    """
    empty = {}
    for name, (start, end) in bounds.items():
        valid = ~np.isnan(values[start:end]).any(axis=1)
        if not (valid[1:] & valid[:-1]).any():
            empty[name] = end - start
    if empty:
        listed = ", ".join(f"{name} ({steps} steps)" for name, steps in empty.items())
        raise RnnlabError(
            f"the prepared power series ({len(values)} steps at {cfg.resolution_minutes} "
            f"min) has no usable pair of steps in the split(s) {listed}. Fix: use a longer "
            f"series (`power.archive`), change `power.split_fractions` "
            f"{dict(zip(SPLITS, cfg.split_fractions, strict=True))}, or raise "
            f"`power.max_gap_steps` / `power.resolution_minutes` if gaps leave it empty."
        )


def prepare(path: str | Path, cfg: PrepConfig) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The prepared series (arrays for series.npz) and the prep report."""
    # A known archive (the offline .gz) is verified by its own hash; any other form
    # (the UCI zip, a plain .txt) by the hash of the text it holds.
    archive_ok = bool(cfg.archive_sha256) and sha256_file(path) in cfg.archive_sha256
    minutes, text_sha, nbytes = read_minutes(path, [] if archive_ok else list(cfg.sha256))
    if len(minutes) < 2:
        raise RnnlabError(f"{path} holds {len(minutes)} data rows; the series needs many more.")
    missing_rows = int(minutes.isna().any(axis=1).sum())
    grid = to_grid(minutes, path)
    absent_minutes = len(grid) - len(minutes)
    steps = resample(grid, cfg.resolution_minutes, cfg.min_coverage)
    raw = steps.to_numpy(dtype=np.float64)
    missing_steps = int(np.isnan(raw).any(axis=1).sum())
    filled, n_filled = fill_short_gaps(raw, cfg.max_gap_steps)
    bounds = split_bounds(len(filled), cfg.split_fractions)
    check_splits(filled, bounds, cfg)
    train = filled[bounds["train"][0] : bounds["train"][1]]
    mean = np.nanmean(train, axis=0)
    std = np.nanstd(train, axis=0)
    if not np.isfinite(std).all() or (std <= 0).any():
        bad = [f for f, s in zip(FEATURES, std, strict=True) if not np.isfinite(s) or s <= 0]
        raise RnnlabError(
            f"features {bad} are constant or absent in the training split, so they cannot "
            f"be standardised; the series is too short or the file is damaged."
        )
    scaled = ((filled - mean) / std).astype(np.float32)
    target_index = FEATURES.index(cfg.target)
    arrays = {
        "values": scaled,
        # Nanoseconds since the epoch, whatever resolution pandas keeps the index in
        # (pandas 3 parses to microseconds; `asi8` would give those).
        "stamps": np.asarray(steps.index.values, dtype="datetime64[ns]").astype(np.int64),
        "mean": mean,
        "std": std,
    }
    report = {
        "source": str(path),
        "text_sha256": text_sha,
        "verified_by": "archive sha256" if archive_ok else "text sha256",
        "text_bytes": nbytes,
        "minute_rows": len(minutes),
        "missing_rows": missing_rows,
        "missing_row_share": missing_rows / len(minutes),
        "absent_minutes": int(absent_minutes),
        "first": str(minutes.index[0]),
        "last": str(minutes.index[-1]),
        "resolution_minutes": cfg.resolution_minutes,
        "min_coverage": cfg.min_coverage,
        "max_gap_steps": cfg.max_gap_steps,
        "steps": len(filled),
        "missing_steps": missing_steps,
        "interpolated_steps": n_filled,
        "unfilled_steps": int(np.isnan(filled).any(axis=1).sum()),
        "splits": {
            k: {
                "start": b[0],
                "end": b[1],
                "steps": b[1] - b[0],
                "first": str(steps.index[b[0]]),
                "last": str(steps.index[b[1] - 1]),
            }
            for k, b in bounds.items()
        },
        "split_fractions": dict(zip(SPLITS, cfg.split_fractions, strict=True)),
        "features": FEATURES,
        "target": cfg.target,
        "target_index": target_index,
        "scaler": {
            f: {"mean": float(m), "std": float(s)}
            for f, m, s in zip(FEATURES, mean, std, strict=True)
        },
        "target_std": float(std[target_index]),
        "target_mean": float(mean[target_index]),
    }
    return arrays, report


@dataclass
class Series:
    """The prepared series as training and evaluation read it."""

    values: np.ndarray  # [T, F] standardised, NaN where a long gap was left open
    stamps: np.ndarray  # [T] int64 nanoseconds since the epoch
    bounds: dict[str, list[int]]
    target_index: int
    target_mean: float
    target_std: float

    @property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.values).any(axis=1)


def load_series(npz_path: str | Path, report_path: str | Path) -> Series:
    data = np.load(npz_path)
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    return Series(
        values=data["values"],
        stamps=data["stamps"],
        bounds={k: [v["start"], v["end"]] for k, v in report["splits"].items()},
        target_index=int(report["target_index"]),
        target_mean=float(report["target_mean"]),
        target_std=float(report["target_std"]),
    )


def window_targets(
    series: Series, split: str, length: int, common_length: int | None = None
) -> np.ndarray:
    """Indices t of the targets whose window [t-length, t] lies inside `split` with no gap.

    The inputs are steps t-length .. t-1 and the target is step t. With `common_length`
    (>= length) only targets that are also valid for that longer window are kept, so
    models of different window lengths are scored on the very same targets.
    """
    span = max(length, common_length or length)
    start, end = series.bounds[split]
    bad = (~series.valid).astype(np.int64)
    # prefix[i] = number of missing steps before i; a window is clean when its count is 0.
    prefix = np.r_[0, np.cumsum(bad)]
    targets = np.arange(start + span, end)
    if len(targets) == 0:
        return targets
    clean = prefix[targets + 1] - prefix[targets - span] == 0
    return targets[clean]


def windows_for(series: Series, targets: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs [N, length, F] and targets [N] (standardised) for the given target indices."""
    offsets = np.arange(-length, 0)
    x = series.values[targets[:, None] + offsets[None, :]]
    y = series.values[targets, series.target_index]
    return x.astype(np.float32), y.astype(np.float32)


def check_windows(series: Series, lengths: list[int]) -> dict[str, dict[str, int]]:
    """Complete windows per split for every forecast length, as the training selects them.

    Test targets use the longest length (the common test set). One error lists every
    split and length without a window, so it is reported once, before any training.
    """
    common = max(lengths)
    counts = {
        split: {
            str(length): len(
                window_targets(series, split, length, common if split == "test" else None)
            )
            for length in sorted(lengths)
        }
        for split in SPLITS
    }
    empty = [
        f"{split} at length {length}"
        for split, by_length in counts.items()
        for length, n in by_length.items()
        if n == 0
    ]
    if empty:
        steps = {k: end - start for k, (start, end) in series.bounds.items()}
        raise RnnlabError(
            f"the power series has no complete window for: {', '.join(empty)} (split "
            f"steps {steps}). Fix: shorten `forecast.lengths` {sorted(lengths)}, use a "
            f"longer series (`power.archive`), change `power.split_fractions`, or raise "
            f"`power.max_gap_steps` if gaps break the windows."
        )
    return counts


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.data.power")
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="raw file -> standardised series + report")
    prep.add_argument("--archive", required=True)
    prep.add_argument("--series", required=True, help="output .npz")
    prep.add_argument("--report", required=True, help="output prep.json")
    prep.add_argument("--params", required=True, help="JSON of the power config section")
    win = sub.add_parser("windows", help="every split holds a window of every forecast length")
    win.add_argument("--series", required=True)
    win.add_argument("--report", required=True, help="prep.json")
    win.add_argument("--lengths", required=True, type=int, nargs="+")
    win.add_argument("--out", required=True, help="windows.json: windows per split and length")
    check = sub.add_parser("checksum", help="verify the archive before anything is prepared")
    check.add_argument("--archive", required=True)
    check.add_argument("--out", required=True, help="file to write the verified checksum to")
    check.add_argument("--params", required=True, help="JSON: sha256 and archive_sha256 lists")
    args = parser.parse_args(argv)
    if args.command == "checksum":
        accepted = json.loads(args.params)
        found, how = verify_archive(args.archive, accepted["sha256"], accepted["archive_sha256"])
        line = f"{found}  {Path(args.archive).name}  ({how})\n"
        write_text(args.out, line)
        print(f"power archive {args.archive}: {how} {found} accepted", flush=True)
        return 0
    if args.command == "windows":
        counts = check_windows(load_series(args.series, args.report), args.lengths)
        write_json(args.out, counts)
        print(json.dumps(counts), flush=True)
        return 0
    cfg = PrepConfig.from_dict(json.loads(args.params))
    arrays, report = prepare(args.archive, cfg)
    save_npz(args.series, **arrays)
    write_json(args.report, report)
    print(
        json.dumps(
            {
                k: report[k]
                for k in (
                    "minute_rows",
                    "missing_rows",
                    "steps",
                    "missing_steps",
                    "interpolated_steps",
                    "unfilled_steps",
                )
            }
        ),
        flush=True,
    )
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
