#!/usr/bin/env bash
# Regenerate requirements.lock: every package rnnlab needs (pyproject.toml, main
# dependencies and the `test` extra), exact versions with sha256 hashes, for
# CPython 3.11 on x86_64 Linux (glibc >= 2.28), torch's CPU build.
#
#   bash scripts/lock.sh              # re-resolve; keeps the locked versions that still fit
#   bash scripts/lock.sh --upgrade    # refresh: newest versions pyproject.toml allows
#   LOCK_PYTHON=3.12 bash scripts/lock.sh   # another target (also LOCK_PLATFORM)
#
# Extra arguments go to `uv pip compile`. The resolver is uv (pinned below), run
# from a private virtual environment under build/ so nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
LOCK_PYTHON=${LOCK_PYTHON:-3.11}
LOCK_PLATFORM=${LOCK_PLATFORM:-x86_64-manylinux_2_28}
# Where torch's CPU wheel is looked for first; PyTorch's CPU index otherwise.
TORCH_WHEELS=${TORCH_WHEELS:-/opt/wheels}
TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu

UV=build/lock-tools/bin/uv
if ! { [ -x "$UV" ] && [ "$("$UV" --version | cut -d' ' -f2)" = "$UV_VERSION" ]; }; then
  python3 -m venv build/lock-tools
  build/lock-tools/bin/python -m pip install -q "uv==$UV_VERSION"
fi

torch_source=(--find-links "$TORCH_WHEELS")
if ! compgen -G "$TORCH_WHEELS/torch-*+cpu-*.whl" >/dev/null; then
  torch_source=(--extra-index-url "$TORCH_CPU_INDEX" --index-strategy unsafe-best-match)
fi

"$UV" pip compile pyproject.toml --extra test \
  --generate-hashes \
  --python-version "$LOCK_PYTHON" --python-platform "$LOCK_PLATFORM" \
  -c scripts/lock-constraints.txt \
  "${torch_source[@]}" \
  -o requirements.lock --quiet "$@"
# environment.yml's pip block: the same pins, without hashes (conda runs pip on it).
python3 - <<'PYENV'
import re
pins = re.findall(r"^([A-Za-z0-9._-]+==\S+)", open("requirements.lock").read(), flags=re.M)
text = open("environment.yml").read()
begin = "      # BEGIN requirements.lock (scripts/lock.sh writes this block; do not edit)\n"
end = "      # END requirements.lock\n"
head, rest = text.split(begin)
_, tail = rest.split(end)
block = "".join(f"      - {pin}\n" for pin in pins)
open("environment.yml", "w").write(head + begin + block + end + tail)
PYENV
echo "lock: wrote requirements.lock for Python $LOCK_PYTHON on $LOCK_PLATFORM; install it with bash scripts/setup.sh"
