"""Merge every registered summary plus run metadata into report/results.json.

results.json is the one context the templates read and the artifact a grader
compares between two runs. So it has two parts:

- everything except `meta.volatile` is deterministic: summaries, the config,
  seeds, package versions, data checksums. Two runs of the same config on the
  same machine give the same bytes there.
- `meta.volatile` holds what legitimately differs between identical runs: the
  git commit, hardware, per-job and per-stage run times, the date. A comparison drops it
  (`stable_part(results)` below).

    python -m rnnlab.report.collect --out report/results.json \
        --summary q6=results/.../summary.json ... --data imdb=archive.tar.gz \
        --config '<json>' --benchmarks benchmarks
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.report import xref
from rnnlab.runtime import cli, named_paths, read_json, sha256_file, write_json

VOLATILE = "volatile"
PACKAGES = (
    "torch",
    "numpy",
    "pandas",
    "matplotlib",
    "snakemake",
    "jinja2",
    "weasyprint",
    "ziamath",
    "scipy",
    "scikit-learn",
)
#: results.json keys no summary may use: run metadata, the claims section, the xref part.
RESERVED = ("meta", "claims", "xref")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JALALI_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip


def stable_part(results: dict[str, Any]) -> dict[str, Any]:
    """results.json without `meta.volatile`: what two identical runs must agree on."""
    stable = dict(results)
    stable["meta"] = {k: v for k, v in results.get("meta", {}).items() if k != VOLATILE}
    return stable


def parse_pairs(pairs: list[str], what: str) -> dict[str, str]:
    """`key=path` arguments -> {key: path}, refusing bad or repeated keys."""
    out = named_paths(pairs, f"--{what}")
    for key in out:
        if not _KEY.match(key) or key in RESERVED:
            raise RnnlabError(
                f"--{what} key {key!r} must be an identifier (templates read r.{key}) "
                "and not 'meta', 'claims' or 'xref' (reserved); rename it where the stage "
                "registers it."
            )
    return out


def load_summaries(summaries: dict[str, str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key, path in sorted(summaries.items()):
        if not Path(path).exists():
            raise RnnlabError(f"summary {path} (key {key!r}) does not exist; rerun its stage")
        try:
            merged[key] = read_json(path)
        except json.JSONDecodeError as err:
            raise RnnlabError(f"summary {path} (key {key!r}) is not valid JSON: {err}") from err
    return merged


def hoist_claims(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Move each summary's top-level ``claims`` into one section keyed by summary key.

    Returns ``{summary key: {claim id: claim}}`` (only parts that have claims) and
    removes ``claims`` from the summary bodies. A claim id used by two parts is an
    error: templates look claims up by id alone.
    """
    hoisted: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for key in sorted(results):
        body = results[key]
        if not isinstance(body, dict) or "claims" not in body:
            continue
        claims = body.pop("claims")
        if not isinstance(claims, dict):
            raise RnnlabError(
                f"summary {key!r}: 'claims' must be an object {{id: claim}} "
                "(build it with rnnlab.claims.collect)"
            )
        for claim_id, claim in claims.items():
            if claim_id in owner:
                raise RnnlabError(
                    f"claim id {claim_id!r} is used by both summary {owner[claim_id]!r} and "
                    f"summary {key!r}; claim ids must be unique across the report "
                    "(start each with its part, e.g. q6a., q7.a.)"
                )
            if isinstance(claim, dict) and claim.get("id", claim_id) != claim_id:
                raise RnnlabError(
                    f"summary {key!r}: claim stored under {claim_id!r} has id {claim.get('id')!r}"
                )
            owner[claim_id] = key
        if claims:
            hoisted[key] = claims
    return hoisted


def package_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def find_seeds(config: Any, prefix: str = "") -> dict[str, Any]:
    """Every config value whose key names a seed (`seed`, `split_seed`, `seeds`), by dotted path."""
    found: dict[str, Any] = {}
    if isinstance(config, dict):
        for key, value in sorted(config.items()):
            path = f"{prefix}.{key}" if prefix else key
            if "seed" in key and not isinstance(value, dict):
                found[path] = value
            else:
                found.update(find_seeds(value, path))
    return found


def data_checksums(archives: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, path in sorted(archives.items()):
        file = Path(path)
        if not file.exists():
            raise RnnlabError(f"data archive {path} ({key}) does not exist")
        size = file.stat().st_size
        out[key] = {
            "file": file.name,
            "bytes": size,
            "megabytes": size / 1e6,
            "sha256": sha256_file(file),
        }
    return out


# Which part of the homework a job belongs to, from its rule name (benchmark files
# are named after their rule). The first matching prefix wins.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("data", ("imdb_", "power_", "forecast_windows")),
    ("theory", ("theory_",)),
    ("q6", ("sentiment_",)),
    ("q6_probes", ("probe_",)),
    ("q7", ("forecast_",)),
    ("report", ("report_",)),
    ("setup", ("device_check",)),
)


def _numbers(records: list[dict[str, str]], column: str) -> list[float]:
    return [float(r[column]) for r in records if r.get(column) not in (None, "", "NA")]


def stage_of(job: str) -> str:
    """The stage of a benchmark job name (`sentiment_train/lstm_L50_s0` -> q6)."""
    for stage, prefixes in STAGES:
        if job.startswith(prefixes):
            return stage
    return "other"


def benchmark_times(folder: Path) -> list[dict[str, Any]]:
    """Per-job wall time, CPU time and peak memory from Snakemake's benchmark TSV files."""
    rows: list[dict[str, Any]] = []
    if not folder.is_dir():
        return rows
    for tsv in sorted(folder.rglob("*.tsv")):
        with open(tsv, newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle, delimiter="\t"))
        if not records:
            continue
        seconds = _numbers(records, "s")
        cpu = _numbers(records, "cpu_time")
        rss = _numbers(records, "max_rss")
        job = str(tsv.relative_to(folder).with_suffix(""))
        rows.append(
            {
                "job": job,
                "stage": stage_of(job),
                "seconds": round(sum(seconds) / len(seconds), 2) if seconds else None,
                "cpu_seconds": round(sum(cpu) / len(cpu), 2) if cpu else None,
                "max_rss_mb": round(max(rss), 1) if rss else None,
            }
        )
    return rows


def stage_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs, summed wall and CPU seconds and the largest peak memory of each stage."""
    order = [stage for stage, _ in STAGES] + ["other"]
    totals: list[dict[str, Any]] = []
    for stage in order:
        mine = [r for r in rows if r["stage"] == stage]
        if not mine:
            continue
        rss = [r["max_rss_mb"] for r in mine if r["max_rss_mb"] is not None]
        totals.append(
            {
                "stage": stage,
                "jobs": len(mine),
                "seconds": round(sum(r["seconds"] or 0 for r in mine), 1),
                "cpu_seconds": round(sum(r["cpu_seconds"] or 0 for r in mine), 1),
                "max_rss_mb": max(rss) if rss else None,
            }
        )
    return totals


def git_commit(cwd: Path) -> dict[str, Any] | None:
    """HEAD and whether the tree had edits; None outside a git checkout (not an error)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


# What makes up the code of a run: hashed when the run has no git commit to name
# (a copy of the source outside a checkout), so the report still names its code.
SOURCE_PATTERNS = (
    "Snakefile", "pyproject.toml", "environment.yml", "config/*.yaml",
    "workflow/**/*", "src/rnnlab/**/*.py", "src/rnnlab/**/*.yaml", "templates/**/*",
)  # fmt: skip


def source_digest(repo: Path) -> dict[str, Any] | None:
    """SHA-256 over the source files (sorted relative paths and contents); None if none."""
    files = sorted(
        {path for pattern in SOURCE_PATTERNS for path in repo.glob(pattern) if path.is_file()}
    )
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(repo).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return {"sha256": digest.hexdigest(), "files": len(files)}


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["cuda"] = None
    return info


def gregorian_to_jalali(day: dt.date) -> tuple[int, int, int]:
    """The Solar Hijri (Jalali) date of a Gregorian date, by day count from 1 Farvardin 1.

    Leap years follow the 33-year arithmetic rule, which matches the official
    (astronomical) calendar for the years a report can carry (1343-1472 SH).
    """
    # Anchored on a known new year (1 Farvardin 1403 = 20 March 2024) rather than
    # on year 1, whose Gregorian date depends on calendar conventions.
    days = (day - dt.date(2024, 3, 20)).days + _jalali_new_year(1403)
    # Find the year by counting leap years of the 33-year cycle.
    year = 1 + (33 * days + 3) // 12053
    while _jalali_new_year(year + 1) <= days:
        year += 1
    while _jalali_new_year(year) > days:
        year -= 1
    day_of_year = days - _jalali_new_year(year)
    month = 1 + (day_of_year // 31 if day_of_year < 186 else 6 + (day_of_year - 186) // 30)
    start = (month - 1) * 31 if month <= 7 else 186 + (month - 7) * 30
    return year, month, day_of_year - start + 1


def _jalali_leap(year: int) -> bool:
    return (25 * year + 11) % 33 < 8


def _jalali_new_year(year: int) -> int:
    """Days from 1 Farvardin 1 to 1 Farvardin `year`."""
    return 365 * (year - 1) + sum(1 for y in range(1, year) if _jalali_leap(y))


def jalali_text(day: dt.date) -> str:
    from rnnlab.style.persian import fa

    year, month, date = gregorian_to_jalali(day)
    return f"{fa(date)} {JALALI_MONTHS[month - 1]} {fa(year)}"


def collect(
    summaries: dict[str, str],
    archives: dict[str, str],
    config: dict[str, Any],
    benchmarks: Path,
    repo: Path,
    today: dt.date | None = None,
) -> dict[str, Any]:
    results = load_summaries(summaries)
    for reserved in RESERVED:
        if reserved in results:
            raise RnnlabError(f"summary key {reserved!r} is reserved in results.json; rename it")
    claims = hoist_claims(results)
    # Cross-references (Q2-Q4 quoting Q6/Q7) are claims computed from the merged parts.
    cross = xref.claims({**results, "claims": claims})
    if cross:
        parts = {key: {"claims": value} for key, value in claims.items()}
        claims = hoist_claims({**parts, "xref": {"claims": cross}})
    results["claims"] = claims
    timed = benchmark_times(benchmarks)
    today = today or dt.date.today()
    results["meta"] = {
        "config": config,
        "seeds": find_seeds(config),
        "packages": package_versions(),
        "data": data_checksums(archives),
        "summaries": {key: summaries[key] for key in sorted(summaries)},
        VOLATILE: {
            "git": git_commit(repo),
            # The code that ran: the checkout this package was imported from.
            "source": source_digest(Path(__file__).resolve().parents[3]),
            "hardware": hardware(),
            "benchmarks": timed,
            "stages": stage_totals(timed),
            # What the appendix prints: the sum of every timed job, in minutes.
            "benchmarks_total_minutes": sum(r["seconds"] or 0 for r in timed) / 60,
            "date": today.isoformat(),
            "date_jalali": jalali_text(today),
        },
    }
    return results


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.report.collect", description=__doc__)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--summary", action="append", default=[], help="key=path (repeat)")
    parser.add_argument("--data", action="append", default=[], help="key=archive (repeat)")
    parser.add_argument("--config", required=True, help="the run's config as JSON")
    parser.add_argument("--benchmarks", type=Path, default=Path("benchmarks"))
    args = parser.parse_args(argv)
    results = collect(
        parse_pairs(args.summary, "summary"),
        parse_pairs(args.data, "data"),
        json.loads(args.config),
        args.benchmarks,
        Path.cwd(),
    )
    write_json(args.out, results)
    n_claims = sum(len(part) for part in results["claims"].values())
    n_summaries = len(results) - 2  # without meta and claims
    print(f"results: {n_summaries} summaries, {n_claims} claims -> {args.out}")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
