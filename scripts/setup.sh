#!/usr/bin/env bash
# Install everything rnnlab needs on a fresh Debian/Ubuntu machine (pip path).
# System libraries for WeasyPrint and the PDF checks come from apt; Python
# packages from PyPI (torch pinned to the CPU build 2.13.0).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils fonts-dejavu-core)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PY=${PYTHON:-python3}
$PY -m pip install -q --upgrade pip
$PY -m pip install -q -e '.[test]'
$PY -c "import torch, snakemake, weasyprint; print('torch', torch.__version__, '| snakemake', snakemake.__version__, '| weasyprint', weasyprint.__version__)"
