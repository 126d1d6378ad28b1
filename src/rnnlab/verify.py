"""Compare a fresh run's results.json with the committed reference, for a grader.

    python -m rnnlab.verify          # report/results.json vs the committed one (git HEAD)
    python -m rnnlab.verify --reference ref.json --candidate report/results.json

What must match, and how closely (the rule is by the top-level section of results.json):
- integers, strings, booleans, list lengths and the set of keys: always exactly;
- floats of computed sections (`theory`, `imdb`, and any not listed below): to 1e-9
  relative (they are arithmetic on fixed inputs, identical on every machine);
- floats of trained sections (`q6a`, `q6b`, `q6c`, `q7`): within a tolerance, because
  float reductions differ between CPUs, BLAS builds and GPUs; on the same machine
  with the same config they are bit-identical (see README "Reproducibility"):
  accuracies/errors to 0.02 absolute or 10 % relative, whichever is larger;
- `meta` (versions, commit, hardware, per-rule times) and every timing anywhere (a key
  naming seconds, a rate per second, a wall time, a ratio of times or a pick made from
  times; see TIMING_KEY) are measurements of the machine, not results: reported, never
  compared; so are claims decided from times (``machine_dependent``);
- `claims` (rnnlab.claims): each part's claims with that part's tolerance.

Exit status: 0 when everything matches, 1 with a readable diff otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli

IGNORED_SECTIONS = {"meta"}
# Keys holding a time, a rate, a ratio of times, or a choice made from times (the
# fastest model, Q7's accuracy/cost trade-off pick): they differ between any two runs.
TIMING_KEY = re.compile(
    r"(second|_sec$|_s$|per_s|_ms$|wall|elapsed|duration|throughput|time_ratio|slowdown"
    r"|speedup|^fastest$|^tradeoff$)",
    re.I,
)
TRAINED_SECTIONS = {"q6a", "q6b", "q6c", "q7"}


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
    if path.split(".", 1)[0] in IGNORED_SECTIONS:
        return []
    if isinstance(reference, dict) and reference.get("machine_dependent") is True:
        return []  # a claim decided from times (rnnlab.claims.compare_timings / pick_fastest)
    if isinstance(reference, dict) and isinstance(candidate, dict):
        diffs = []
        for key in sorted(set(reference) | set(candidate)):
            sub = f"{path}.{key}" if path else str(key)
            if sub.split(".", 1)[0] in IGNORED_SECTIONS or TIMING_KEY.search(str(key)):
                continue
            if key not in candidate:
                diffs.append(f"{sub}: missing in the new run")
            elif key not in reference:
                diffs.append(f"{sub}: not in the reference")
            else:
                diffs.extend(compare(reference[key], candidate[key], sub, trained))
        return diffs
    if isinstance(reference, list) and isinstance(candidate, list):
        if len(reference) != len(candidate):
            return [f"{path}: {len(reference)} items -> {len(candidate)} items"]
        diffs = []
        for i, (a, b) in enumerate(zip(reference, candidate, strict=True)):
            diffs.extend(compare(a, b, f"{path}[{i}]", trained))
        return diffs
    is_float = isinstance(reference, float) or isinstance(candidate, float)
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (reference, candidate)
    )
    if is_float and numbers:
        tol = tolerance_for(path, trained)
        if tol.close(float(reference), float(candidate)):
            return []
        kind = "trained" if tol is not EXACT else "exact"
        return [f"{path}: {reference!r} -> {candidate!r} (beyond the {kind} tolerance)"]
    if reference != candidate or type(reference) is not type(candidate):
        return [f"{path}: {reference!r} -> {candidate!r}"]
    return []


def load_reference(spec: str, repo: Path) -> Any:
    """`git:<rev>` reads report/results.json as committed at <rev>; anything else is a path."""
    if spec.startswith("git:"):
        rev = spec.removeprefix("git:")
        try:
            text = subprocess.run(
                ["git", "show", f"{rev}:report/results.json"],
                cwd=repo,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        except (subprocess.CalledProcessError, FileNotFoundError) as err:
            raise RnnlabError(
                f"cannot read the committed reference report/results.json at {rev} ({err}); "
                f"run inside the git checkout or pass --reference <file>."
            ) from None
        return json.loads(text)
    return _load(Path(spec), "reference")


def _load(path: Path, what: str) -> Any:
    if not path.is_file():
        raise RnnlabError(
            f"the {what} {path} does not exist; run `snakemake --cores 4` first "
            f"or pass the right path."
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RnnlabError(f"the {what} {path} is not valid JSON ({err}).") from None


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.verify", description=__doc__.split("\n")[0]
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
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parents[2]
    reference = load_reference(args.reference, repo)
    candidate = _load(Path(args.candidate), "candidate")
    diffs = compare(reference, candidate, trained=Tolerance(args.trained_rel, args.trained_abs))
    if diffs:
        print(f"{len(diffs)} difference(s) between {args.reference} and {args.candidate}:")
        for line in diffs:
            print(f"  {line}")
        return 1
    sections = sorted(k for k in candidate if k not in IGNORED_SECTIONS)
    print(f"results match the reference ({', '.join(sections)}; meta not compared)")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
