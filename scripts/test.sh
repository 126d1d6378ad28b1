#!/usr/bin/env bash
# The test command: static checks, then the pytest suite (includes the smoke pipeline run).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check .
$PY -m snakemake --lint >/dev/null || { $PY -m snakemake --lint; exit 1; }
$PY -m pytest -q "$@"
