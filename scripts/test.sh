#!/usr/bin/env bash
# The test command: static checks, then the pytest suite (includes the smoke pipeline run).
# Formatting is checked, never applied: `ruff format .` and `snakefmt Snakefile workflow/`
# fix what the two --check lines report (versions pinned in requirements.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check .
$PY -m ruff format --check . || { echo "test: run  ruff format .  to fix" >&2; exit 1; }
$PY -m snakefmt --check Snakefile workflow/ \
  || { echo "test: run  snakefmt Snakefile workflow/  to fix" >&2; exit 1; }
$PY -m snakemake --lint >/dev/null || { $PY -m snakemake --lint; exit 1; }
$PY -m pytest -q "$@"
