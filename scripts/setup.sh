#!/usr/bin/env bash
# Install everything rnnlab needs on a fresh Debian/Ubuntu machine (pip path).
#
# 1. Check that this Python and platform are the ones requirements.lock was
#    resolved for (its header); stop before installing anything if not.
# 2. System libraries for WeasyPrint and the PDF checks, from apt.
# 3. Exactly the locked Python packages, every file checked against its sha256
#    (`pip install --require-hashes -r requirements.lock`), torch's CPU build.
# 4. rnnlab itself, editable, without resolving anything again (--no-deps).
#
#   bash scripts/setup.sh            # all of it
#   bash scripts/setup.sh --check    # step 1 only
# PYTHON picks the interpreter (default python3), LOCK the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOCK=${LOCK:-requirements.lock}
TORCH_WHEELS=${TORCH_WHEELS:-/opt/wheels}
TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu

# --- 1. the lock's target against this machine -------------------------------
"$PY" - "$LOCK" <<'PYCHECK'
import os, platform, re, sys

lock = sys.argv[1]
if not os.path.isfile(lock):
    sys.exit(f"setup: {lock} is missing; create it with `bash scripts/lock.sh`")
header = open(lock, encoding="utf-8").read(4000)
want_py = re.search(r"--python-version[ =](\S+)", header)
want_plat = re.search(r"--python-platform[ =](\S+)", header)
if not (want_py and want_plat):
    sys.exit(f"setup: {lock} does not say which Python and platform it was made for "
             "(no --python-version/--python-platform in its header); "
             "recreate it with `bash scripts/lock.sh`")
want_py, want_plat = want_py.group(1), want_plat.group(1)
have_py = "%d.%d" % sys.version_info[:2]
machine = platform.machine()
libc = (os.confstr("CS_GNU_LIBC_VERSION") or "") if hasattr(os, "confstr") else ""
glibc = tuple(int(x) for x in re.findall(r"\d+", libc)[:2]) if libc.startswith("glibc") else None
have_plat = f"{machine}-manylinux_{glibc[0]}_{glibc[1]}" if glibc else f"{machine}-{sys.platform}"
problems = []
if want_py != have_py:
    problems.append(f"Python {want_py} (this is Python {have_py}, {sys.executable})")
m = re.fullmatch(r"(\w+)-manylinux_(\d+)_(\d+)", want_plat)
if not m:
    problems.append(f"platform {want_plat}, which this script cannot check (use a <arch>-manylinux_X_Y target)")
elif sys.platform != "linux" or machine != m.group(1) or glibc is None \
        or glibc < (int(m.group(2)), int(m.group(3))):
    problems.append(f"platform {want_plat} (Linux on {m.group(1)}, glibc >= {m.group(2)}.{m.group(3)}; "
                    f"this machine is {sys.platform} {machine}, {libc or 'no glibc'})")
if problems:
    target = have_plat if glibc else "<arch>-manylinux_X_Y"
    regen = f"regenerate it for this machine: LOCK_PYTHON={have_py} LOCK_PLATFORM={target} bash scripts/lock.sh"
    if want_py != have_py:
        regen = f"run with Python {want_py} (PYTHON=python{want_py} bash scripts/setup.sh) or {regen}"
    sys.exit(f"setup: {lock} was made for " + " and ".join(problems) + f"; nothing was installed. Fix: {regen}")
print(f"setup: {lock} fits this machine (Python {have_py}, {have_plat}; made for {want_plat})")
PYCHECK
[ "${1:-}" = "--check" ] && exit 0

# --- 2. system libraries -------------------------------------------------------
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

# --- 3. the locked packages ----------------------------------------------------
# torch's CPU build (a +cpu local version) is not on PyPI: a local wheel folder
# when it has one, PyTorch's CPU index otherwise. The hash in the lock decides.
torch_source=(--find-links "$TORCH_WHEELS")
torch_pin=$(grep -oE '^torch==[^ ]+' "$LOCK" | cut -d= -f3)
if ! compgen -G "$TORCH_WHEELS/torch-${torch_pin}-*.whl" >/dev/null; then
  torch_source=(--extra-index-url "$TORCH_CPU_INDEX")
fi
"$PY" -m pip install -q --require-hashes -r "$LOCK" "${torch_source[@]}"

# --- 4. rnnlab itself (its build backend, setuptools, is in the lock) -----------
"$PY" -m pip install -q --no-deps --no-build-isolation -e .
"$PY" -c "import torch, snakemake, weasyprint, scipy, sklearn; print('torch', torch.__version__, '| snakemake', snakemake.__version__, '| weasyprint', weasyprint.__version__, '| scipy', scipy.__version__, '| scikit-learn', sklearn.__version__)"
