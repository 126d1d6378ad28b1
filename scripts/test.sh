#!/usr/bin/env bash
# The test command: static checks, then both pytest groups.
#   static:   ruff check; formatting checked, never applied (`ruff format .` and
#             `snakefmt Snakefile workflow/` fix what the two --check lines report;
#             both versions pinned in requirements.lock); snakemake --lint
#   unit:     plain `pytest` (pyproject addopts deselect the pipeline and slow tests and
#             spread the rest over the cores with pytest-xdist); under a minute
#   pipeline: every test that runs Snakemake (marked `pipeline` automatically in
#             tests/conftest.py), incl. the end-to-end smoke run, the provenance
#             report and the SLURM checks (skipped where no SLURM controller answers),
#             plus the `slow` unit tests (real training subprocesses, the workflow parse);
#             one at a time (-n 0: one smoke run for the session); about twenty minutes
# Extra arguments go to both pytest calls (e.g. -x).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check .
$PY -m ruff format --check . || { echo "test: run  ruff format .  to fix" >&2; exit 1; }
$PY -m snakefmt --check Snakefile workflow/ \
  || { echo "test: run  snakefmt Snakefile workflow/  to fix" >&2; exit 1; }
$PY -m snakemake --lint >/dev/null || { $PY -m snakemake --lint; exit 1; }
$PY -m pytest -q "$@"
$PY -m pytest -q -n 0 -m "pipeline or slurm or slow" "$@"
