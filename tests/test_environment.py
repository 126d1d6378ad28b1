"""The pinned environment: requirements.lock against pyproject.toml, environment.yml
and the platform check of scripts/setup.sh (fast; installs nothing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
REGENERATE = "bash scripts/lock.sh"


@dataclass
class Pin:
    version: Version
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def read_lock(path: Path = LOCK) -> dict[str, Pin]:
    """Package name (canonical) -> its locked version, hashes and `# via` sources."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line):
            current = pins[canonicalize_name(m[1])] = Pin(Version(m[2]))
            in_via = False
        elif current and (m := re.search(r"--hash=(sha256:[0-9a-f]{64})", line)):
            current.hashes.append(m[1])
        elif current and (m := re.match(r"^\s+# via\s*(.*)$", line)):
            in_via = not m[1]
            current.via += [m[1]] if m[1] else []
        elif current and in_via and (m := re.match(r"^\s+#\s+(\S.*)$", line)):
            current.via.append(m[1])
    return pins


def project_requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and every optional extra (the lock covers `test`)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(line) for line in lines]


def lock_target(path: Path = LOCK) -> tuple[str, str]:
    header = path.read_text(encoding="utf-8")[:4000]
    py = re.search(r"--python-version[ =](\S+)", header)
    plat = re.search(r"--python-platform[ =](\S+)", header)
    assert py and plat, f"{path.name}'s header names no target; regenerate: {REGENERATE}"
    return py[1], plat[1]


def test_every_locked_file_has_a_hash():
    pins = read_lock()
    assert len(pins) > 20
    unhashed = [name for name, pin in pins.items() if not pin.hashes]
    assert not unhashed, f"locked without a hash: {unhashed}; regenerate: {REGENERATE}"


def test_every_project_requirement_is_satisfied_by_the_lock():
    pins = read_lock()
    wrong = []
    for req in project_requirements():
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            wrong.append(f"{req} is not in the lock")
        elif not req.specifier.contains(pin.version, prereleases=True):
            wrong.append(f"{req} but the lock has {pin.version}")
    assert not wrong, (
        "pyproject.toml and requirements.lock disagree: "
        + "; ".join(wrong)
        + f". Regenerate the lock: {REGENERATE}"
    )


def test_every_top_level_locked_package_comes_from_pyproject():
    wanted = {canonicalize_name(req.name) for req in project_requirements()}
    top = {name for name, pin in read_lock().items() if any("pyproject.toml" in v for v in pin.via)}
    assert top, "no locked package says `# via rnnlab (pyproject.toml)`"
    assert top == wanted, (
        f"only in the lock: {sorted(top - wanted)}; only in pyproject.toml: "
        f"{sorted(wanted - top)}. Regenerate the lock: {REGENERATE}"
    )


def test_torch_is_the_cpu_build_and_nothing_cuda_is_locked():
    pins = read_lock()
    assert pins["torch"].version.local == "cpu", f"torch {pins['torch'].version} is not +cpu"
    constraint = (REPO / "scripts" / "lock-constraints.txt").read_text()
    assert f"torch=={pins['torch'].version}" in constraint
    cuda = [name for name in pins if name.startswith(("nvidia-", "cuda-")) or name == "triton"]
    assert not cuda, f"the lock pulls CUDA packages: {cuda}"


def test_lock_targets_python_311_on_linux():
    py, plat = lock_target()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert Version(py + ".0") in Requirement(f"python{project['requires-python']}").specifier
    assert py == "3.11" and plat.startswith("x86_64-manylinux_"), (py, plat)


def test_environment_yml_installs_the_locked_pins():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pinned = dict(item.split("==", 1) for item in pip if "==" in item)
    pinned = {canonicalize_name(name): Version(v) for name, v in pinned.items()}
    locked = {name: pin.version for name, pin in read_lock().items()}
    assert pinned == locked, (
        f"environment.yml differs from requirements.lock: "
        f"{sorted(set(pinned.items()) ^ set(locked.items()))}; rerun {REGENERATE}"
    )
    assert "-e ." in pip, "environment.yml no longer installs rnnlab itself"


def run_setup_check(lock: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOCK": str(lock), "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "setup.sh"), "--check"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_setup_accepts_the_committed_lock_here():
    if sys.platform != "linux" or sys.version_info[:2] != (3, 11):
        pytest.skip("the committed lock is for Python 3.11 on Linux")
    proc = run_setup_check(LOCK)
    assert proc.returncode == 0, proc.stderr
    assert "fits this machine" in proc.stdout


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("--python-version 3.11", "--python-version 3.99", "Python 3.99"),
        ("--python-platform x86_64-", "--python-platform aarch99-", "platform aarch99-manylinux"),
        ("--python-platform x86_64-manylinux_2_28", "--python-platform x86_64-manylinux_9_99",
         "glibc >= 9.99"),
    ],
)  # fmt: skip
def test_setup_stops_on_a_lock_for_another_machine(tmp_path, old, new, named):
    text = LOCK.read_text(encoding="utf-8")
    assert old in text
    other = tmp_path / "requirements.lock"
    other.write_text(text.replace(old, new, 1), encoding="utf-8")
    proc = run_setup_check(other)
    assert proc.returncode != 0
    assert named in proc.stderr, proc.stderr
    assert "nothing was installed" in proc.stderr
    assert REGENERATE.split()[-1] in proc.stderr  # the regenerate command: scripts/lock.sh
