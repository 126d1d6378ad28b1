#!/usr/bin/env bash
# The test command: static checks, then both pytest groups.
#   unit:     plain `pytest` (pyproject addopts deselect the pipeline tests); about a minute
#   pipeline: every test that runs Snakemake (marked `pipeline` automatically in
#             tests/conftest.py), incl. the end-to-end smoke run and the SLURM checks
#             (skipped where no SLURM controller answers); several minutes
# Extra arguments go to both pytest calls (e.g. -x).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check .
$PY -m snakemake --lint >/dev/null || { $PY -m snakemake --lint; exit 1; }
$PY -m pytest -q "$@"
$PY -m pytest -q -m "pipeline or slurm" "$@"
