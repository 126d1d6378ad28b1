"""Code inputs of the rules: computed import closures, never hand-kept lists.

Every rule that runs `python -m rnnlab.<module>` must list as its `code` inputs
exactly the source files of that module's import closure (workflow/lib/codedeps.py),
so a job reruns when code it imports changes, and only then.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
# Downloads fetch a fixed archive: our code does not change what they produce, so
# they carry no code inputs (a docstring edit must not re-download 80 MB).
NO_CODE = {"imdb_download", "power_download"}


def _load_codedeps():
    spec = importlib.util.spec_from_file_location(
        "codedeps_under_test", REPO / "workflow" / "lib" / "codedeps.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


codedeps = _load_codedeps()


@pytest.fixture(scope="module")
def workflow_rules() -> list[dict]:
    """The rules of the real Snakefile (parsed by Snakemake, nothing run)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "workflow" / "lib" / "rules_json.py")],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # parses the real workflow in a subprocess (about 11 s)
def test_every_rule_lists_the_closure_of_its_module(workflow_rules):
    shell_rules = [r for r in workflow_rules if r["shell"]]
    assert len(shell_rules) >= 25
    wrong = {}
    for rule in shell_rules:
        modules = re.findall(r"python -m (rnnlab[\w.]*)", rule["shell"])
        assert len(modules) == 1, f"{rule['name']}: expected one `python -m rnnlab...`"
        listed = sorted(rule["inputs"].get("code", []))
        expected = (
            []
            if rule["name"] in NO_CODE
            else sorted(str(SRC / path) for path in codedeps.closure(SRC, modules[0]))
        )
        if listed != expected:
            wrong[rule["name"]] = {
                "missing": sorted(set(expected) - set(listed)),
                "extra": sorted(set(listed) - set(expected)),
            }
    assert not wrong, f"code inputs differ from the import closure: {wrong}"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_closure_follows_every_import_form(tmp_path):
    src = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a/__init__.py": "from . import helper\n",
            "pkg/a/helper.py": "",
            "pkg/a/main.py": (
                "import os\n"
                "from typing import TYPE_CHECKING\n"
                "from .sib import x\n"
                "from ..b import mod\n"
                "import pkg.c.deep\n"
                "if TYPE_CHECKING:\n"
                "    from pkg import typed_only\n"
                "def f():\n"
                "    from pkg.lazy import thing\n"
            ),
            "pkg/a/sib.py": "x = 1\n",
            "pkg/b/__init__.py": "",
            "pkg/b/mod.py": "",
            "pkg/c/__init__.py": "",
            "pkg/c/deep.py": "",
            "pkg/lazy.py": "",
            "pkg/typed_only.py": "",
            "pkg/unused.py": "",
        },
    )
    assert codedeps.closure(src, "pkg.a.main") == (
        "pkg/__init__.py",
        "pkg/a/__init__.py",
        "pkg/a/helper.py",
        "pkg/a/main.py",
        "pkg/a/sib.py",
        "pkg/b/__init__.py",
        "pkg/b/mod.py",
        "pkg/c/__init__.py",
        "pkg/c/deep.py",
        "pkg/lazy.py",
    )


def test_closure_refuses_a_missing_module(tmp_path):
    src = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": "from pkg.gone import y\n"})
    with pytest.raises(codedeps.ClosureError, match="pkg.gone"):
        codedeps.closure(src, "pkg.m")
