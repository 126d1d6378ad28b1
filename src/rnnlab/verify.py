"""Compare a fresh run's results.json with the committed reference, for a grader.

    python -m rnnlab.verify          # report/results.json vs the committed one (git HEAD)
    python -m rnnlab.verify --reference ref.json --candidate report/results.json

What must match, and how closely (the tolerance is chosen by the top-level section):
- integers, strings, booleans, list lengths and the set of keys: always exactly
  (claim verdicts are strings, so every claim's verdict must match);
- floats of computed sections (`theory`, `imdb`, and any section not listed below):
  to 1e-9 relative (arithmetic on fixed inputs, identical on every machine);
- floats of trained sections (`q6a`, `q6b`, `q6c`, `q7`) and the evidence numbers of
  `claims`: within a tolerance, because float reductions differ between CPUs, BLAS
  builds and GPUs (on the same machine with the same config they are bit-identical;
  see README "Reproducibility"): 0.02 absolute or 10 % relative, whichever is larger;
- measurements of the machine are reported, never compared. They are listed here by
  name, not guessed from a pattern: `TIMING_KEYS` (exact key names: seconds, rates per
  second, time ratios, picks made from times), `MACHINE_PATHS` (exact paths: `meta`,
  the device a run used, ...) and `COMMON_KEYS_ONLY` (dicts keyed by the devices a
  machine has, compared for the devices both runs measured), and claims decided
  from times (marked ``machine_dependent`` by rnnlab.claims). Every other key,
  including any new one, is compared.

When the candidate's recorded package versions (`meta.packages`) differ from the
reference's, a warning lists them; it does not change the exit status.

Exit status:
  0  every compared value matches;
  1  some values differ (each printed as `path: reference -> candidate`);
  2  bad input: a missing or unreadable file, bytes that are not UTF-8, text that is
     not JSON or not a JSON object, a reference git cannot show, or bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli

# --------------------------------------------------------------- what is not compared
#: Exact key names that hold a measurement of the machine wherever they appear.
TIMING_KEYS: dict[str, str] = {
    "train_seconds": "wall time of one Q6-A training run",
    "total_train_seconds": "sum of the Q6-A training wall times",
    "train_minutes": "Q6-A training wall time per cell, in minutes",
    "total_train_minutes": "sum of the Q6-A training wall times, in minutes",
    "epoch_time_ratio": "ratio of two Q7 models' CPU time per epoch",
    "cpu_seconds_training": "sum of the Q7 training CPU times",
    "tokens_per_s": "Q6-A training throughput",
    "epoch_seconds": "Q7 wall time per epoch",
    "epoch_cpu_seconds": "Q7 CPU time per epoch",
    "time_ratio": "ratio of two Q7 epoch times",
    "fastest": "the Q7 model with the shortest epoch time",
    "tradeoff": "the Q7 accuracy/cost pick, made from epoch times",
    "best_ms": "Q2 timing (best of the repeats)",
    "median_ms": "Q2 timing (median of the repeats)",
    "times_ms": "Q2 timings of every repeat",
    "min_ms": "Q2 fastest of the repeats",
    "max_ms": "Q2 slowest of the repeats",
    "gflops_per_s": "Q2 rate computed from a timing",
    "conv_ms": "Q2 timing of the convolution at the longest length",
    "matmul_ms": "Q2 timing of the matmul at the longest length",
    "rnn_ms": "Q2 timing of the RNN at the longest length",
    "rnn_ms_per_step_at_longest": "Q2 RNN time per step",
    "rnn_slowdown_at_longest": "Q2 ratios of timings",
    "fastest_at_longest": "the Q2 op with the shortest time",
    "matmul_slower_at_longest": "whether the Q2 matmul's best time exceeds the RNN's",
    "rows_at_longest": "Q2 timing rows at the longest length",
    "rnn_time_ratio_longest_shortest": "Q2 ratio of two RNN timings",
    "rnn_us_per_step_at_longest": "Q2 RNN time per step",
    "rnn_speedup_at_longest": "Q2 ratios of timings",
    "rnn_slowdown_vs_conv": "Q2 ratios of timings per length",
    "gflops_per_s_at_longest": "Q2 rates computed from timings",
    "cpu_seconds": "CPU time of a training run",
    "total_cpu_seconds": "sum of the CPU times of the training runs",
    "hardware": "CPU model, core and thread counts, torch build of the machine",
}
#: Exact paths ("/" between keys, "*" for any one key or list index) of subtrees that
#: describe the machine rather than the results.
MACHINE_PATHS: dict[str, str] = {
    "meta": "versions, commit, hardware, per-rule times (versions: a warning only)",
    "q6a/device": "the device the Q6-A runs used (cpu or cuda, from `device: auto`)",
    "theory/parallelism/device": "the machine's CPU, as a label",
    "theory/parallelism/devices": "the devices this machine measured",
    "theory/parallelism/skipped_cpu_threads": "thread counts above the cores given",
    "theory/parallelism/thread_scaling": "speed-ups between thread counts (timings)",
}
#: Dicts keyed by what the machine has (devices): only keys present in both are compared.
COMMON_KEYS_ONLY: dict[str, str] = {
    "theory/parallelism/by_device": "a GPU machine measures `cuda` too",
}
TRAINED_SECTIONS = {"q6a", "q6b", "q6c", "q7", "claims"}


def is_timing_key(key: str) -> bool:
    """Whether a key names a measurement of the machine wherever it appears."""
    return key in TIMING_KEYS


def _matches(pattern: str, segments: tuple[str, ...]) -> bool:
    parts = pattern.split("/")
    return len(parts) == len(segments) and all(
        p == "*" or p == s for p, s in zip(parts, segments, strict=True)
    )


def skip_reason(segments: tuple[str, ...]) -> str | None:
    """Why the value at `segments` (keys and list indices) is not compared, or None.

    A value is skipped when its own key is in TIMING_KEYS or a path above it (or
    itself) is in MACHINE_PATHS; list indices are never timing keys.
    """
    for depth in range(1, len(segments) + 1):
        head = segments[:depth]
        for pattern, why in MACHINE_PATHS.items():
            if _matches(pattern, head):
                return f"{pattern}: {why}"
        key = head[-1]
        if key in TIMING_KEYS and not key.isdigit():
            return f"{key}: {TIMING_KEYS[key]}"
    return None


def _common_keys_only(segments: tuple[str, ...]) -> bool:
    return any(_matches(pattern, segments) for pattern in COMMON_KEYS_ONLY)


@dataclass(frozen=True)
class Tolerance:
    rel: float
    abs: float

    def close(self, a: float, b: float) -> bool:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=self.rel, abs_tol=self.abs)


EXACT = Tolerance(rel=1e-9, abs=1e-12)
TRAINED = Tolerance(rel=0.10, abs=0.02)


def tolerance_for(path: str, trained: Tolerance = TRAINED) -> Tolerance:
    parts = path.split(".")
    section = parts[0].split("[", 1)[0]
    if section == "claims" and len(parts) > 1:
        # results["claims"][<part>]: a claim's numbers are as exact as its part's;
        # cross-references quote the trained parts.
        section = parts[1].split("[", 1)[0]
        if section == "xref":
            return trained
    return trained if section in TRAINED_SECTIONS else EXACT


def compare(
    reference: Any, candidate: Any, path: str = "", trained: Tolerance = TRAINED
) -> list[str]:
    """Every difference between two JSON trees, as `path: reference -> candidate` lines."""
    segments = tuple(_display_segments(path))
    return list(_diff(reference, candidate, path, segments, trained))


def _display_segments(path: str) -> Iterator[str]:
    for part in path.split(".") if path else []:
        key, *indices = part.split("[")
        yield key
        yield from (index.rstrip("]") for index in indices)


def _diff(ref: Any, new: Any, path: str, segments: tuple[str, ...], trained: Tolerance):
    if segments and skip_reason(segments):
        return
    if isinstance(ref, dict) and ref.get("machine_dependent") is True:
        return  # a claim decided from times (rnnlab.claims.compare_timings / pick_fastest)
    if isinstance(ref, dict) and isinstance(new, dict):
        keys = set(ref) & set(new) if _common_keys_only(segments) else set(ref) | set(new)
        for key in sorted(keys, key=str):
            sub, sub_segments = f"{path}.{key}" if path else str(key), (*segments, str(key))
            if skip_reason(sub_segments):
                continue
            if key not in new:
                yield f"{sub}: missing in the new run"
            elif key not in ref:
                yield f"{sub}: not in the reference"
            else:
                yield from _diff(ref[key], new[key], sub, sub_segments, trained)
        return
    if isinstance(ref, list) and isinstance(new, list):
        if len(ref) != len(new):
            yield f"{path}: {len(ref)} items -> {len(new)} items"
            return
        for i, (a, b) in enumerate(zip(ref, new, strict=True)):
            yield from _diff(a, b, f"{path}[{i}]", (*segments, str(i)), trained)
        return
    is_float = isinstance(ref, float) or isinstance(new, float)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (ref, new))
    if is_float and numbers:
        tol = tolerance_for(path, trained)
        if not tol.close(float(ref), float(new)):
            kind = "trained" if tol is not EXACT else "exact"
            yield f"{path}: {ref!r} -> {new!r} (beyond the {kind} tolerance)"
        return
    if ref != new or type(ref) is not type(new):
        yield f"{path}: {ref!r} -> {new!r}"


def version_warnings(reference: Any, candidate: Any) -> list[str]:
    """Packages whose recorded versions (meta.packages) differ, as `name: ref -> new`."""

    def packages(tree: Any) -> dict[str, Any]:
        meta = tree.get("meta") if isinstance(tree, dict) else None
        found = meta.get("packages") if isinstance(meta, dict) else None
        return found if isinstance(found, dict) else {}

    ref, new = packages(reference), packages(candidate)
    return [
        f"{name}: {ref.get(name, 'not recorded')} -> {new.get(name, 'not recorded')}"
        for name in sorted(set(ref) | set(new), key=str)
        if ref.get(name) != new.get(name)
    ]


def load_reference(spec: str, repo: Path) -> Any:
    """`git:<rev>` reads report/results.json as committed at <rev>; anything else is a path."""
    if not spec.startswith("git:"):
        return _load(Path(spec), "reference")
    rev = spec.removeprefix("git:")
    try:
        raw = subprocess.run(
            ["git", "show", f"{rev}:report/results.json"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout
    except (subprocess.CalledProcessError, OSError) as err:
        raise RnnlabError(
            f"cannot read the committed reference report/results.json at {rev} ({err}); "
            f"run inside the git checkout or pass --reference <file>."
        ) from None
    return _parse(raw, f"report/results.json at {rev}", "reference")


def _load(path: Path, what: str) -> Any:
    if not path.is_file():
        raise RnnlabError(
            f"the {what} {path} does not exist or is not a file; run `snakemake --cores 4` "
            f"first or pass the right path."
        )
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RnnlabError(
            f"cannot read the {what} {path} ({err.strerror or err}); check its permissions."
        ) from None
    return _parse(raw, str(path), what)


def _parse(raw: bytes, name: str, what: str) -> Any:
    try:
        tree = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise RnnlabError(
            f"the {what} {name} is not UTF-8 text (byte {err.start}); pass a results.json "
            f"written by rnnlab."
        ) from None
    except json.JSONDecodeError as err:
        raise RnnlabError(f"the {what} {name} is not valid JSON ({err}).") from None
    if not isinstance(tree, dict):
        raise RnnlabError(f"the {what} {name} is JSON but not an object like results.json.")
    return tree


def _parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.verify",
        description=doc.split("\n")[0],
        epilog="exit status: 0 match, 1 values differ, 2 bad input (missing, unreadable, "
        "not UTF-8 or not JSON). Different package versions only warn.",
    )
    parser.add_argument(
        "--reference",
        default="git:HEAD",
        help="a results.json, or git:<rev> for the committed one (default git:HEAD)",
    )
    parser.add_argument(
        "--candidate", default="report/results.json", help="the fresh run's results.json"
    )
    parser.add_argument("--trained-rel", type=float, default=TRAINED.rel)
    parser.add_argument("--trained-abs", type=float, default=TRAINED.abs)
    return parser


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    repo = Path(__file__).resolve().parents[2]
    reference = load_reference(args.reference, repo)
    candidate = _load(Path(args.candidate), "candidate")
    warnings = version_warnings(reference, candidate)
    if warnings:
        print(
            "warning: the candidate ran with other package versions than the reference "
            "(not a failure; install the pinned versions, see README, to match):",
            file=sys.stderr,
        )
        for line in warnings:
            print(f"  {line}", file=sys.stderr)
    diffs = compare(reference, candidate, trained=Tolerance(args.trained_rel, args.trained_abs))
    if diffs:
        print(f"{len(diffs)} difference(s) between {args.reference} and {args.candidate}:")
        for line in diffs:
            print(f"  {line}")
        return 1
    sections = sorted(k for k in candidate if k != "meta")
    print(f"results match the reference ({', '.join(sections)}; meta and timings not compared)")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
