"""Shared fixtures: the end-to-end smoke run of the whole pipeline on fixture archives.

Test groups: a test that runs Snakemake (itself, through a helper or through a
fixture such as `smoke_run`) is a pipeline test. `pytest_collection_modifyitems`
marks it `pipeline` automatically; plain `pytest` deselects those (pyproject
addopts, with the `slow` unit tests) and runs the fast ones on every core (xdist);
`pytest -n 0 -m "pipeline or slurm or slow"` runs the rest, one at a time
(scripts/test.sh runs both). A runtime guard fails any unmarked test that starts
Snakemake anyway, so the automatic marking cannot silently miss one.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import fixtures
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _constants(code: types.CodeType):
    """String constants, including those Python folded into tuples (`("snakemake", "-n")`)."""
    todo = list(code.co_consts)
    while todo:
        const = todo.pop()
        if isinstance(const, (tuple, frozenset)):
            todo.extend(const)
        elif isinstance(const, str):
            yield const


def _runs_snakemake(func, seen: set) -> bool:
    """Whether a test-suite function starts Snakemake, itself or through what it calls.

    A call shows as the string constant "snakemake" (`[sys.executable, "-m",
    "snakemake", ...]` or `["snakemake", ...]`) in the function or in any function of
    the test suite it names (helpers, imported ones from conftest included).
    """
    code = getattr(func, "__code__", None)
    if code is None or func in seen or not code.co_filename.startswith(str(TESTS)):
        return False
    if func.__name__ in _GUARDS:  # they name Snakemake only to catch it
        return False
    seen.add(func)
    names: set[str] = set()
    for part in _code_objects(code):
        if "snakemake" in _constants(part):
            return True
        names.update(part.co_names)
    scope = func.__globals__
    found = [scope[name] for name in names if name in scope]
    # `conftest.planned_jobs(...)`: attributes of the modules the function names.
    for module in [obj for obj in found if inspect.ismodule(obj)]:
        found += [getattr(module, name) for name in names if hasattr(module, name)]
    return any(_runs_snakemake(obj, seen) for obj in found if inspect.isfunction(obj))


_GUARDS = {"_starts_snakemake", "_unit_tests_never_run_snakemake"}


def pytest_collection_modifyitems(config, items):
    """Mark `pipeline` every test that runs Snakemake, directly or through a fixture."""
    for item in items:
        funcs = [getattr(item, "function", None)]
        fixturedefs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        for name in getattr(item, "fixturenames", ()):
            funcs += [definition.func for definition in fixturedefs.get(name, ())]
        seen: set = set()
        if any(_runs_snakemake(func, seen) for func in funcs if func is not None):
            item.add_marker("pipeline")


def _starts_snakemake(args) -> bool:
    if isinstance(args, (str, bytes)):
        text = args.decode() if isinstance(args, bytes) else args
        return re.search(r"(^|[\s/])snakemake(\s|$)", text) is not None
    return any(str(word) == "snakemake" or str(word).endswith("/snakemake") for word in args)


@pytest.fixture(autouse=True)
def _unit_tests_never_run_snakemake(request, monkeypatch):
    """Fail an unmarked test that starts Snakemake: the automatic marking missed it."""
    if request.node.get_closest_marker("pipeline"):
        return
    real = subprocess.Popen

    class Guarded(real):
        def __init__(self, args, *rest, **kwargs):
            if _starts_snakemake(args):
                pytest.fail(
                    f"{request.node.nodeid} runs Snakemake but is not marked `pipeline`: "
                    "call it through conftest.run_snakemake/snakemake_cmd or a fixture that does"
                )
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Guarded)


def smoke_config(tmp: Path) -> Path:
    """config/smoke.yaml plus the paths of freshly built fixture archives."""
    config = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()) or {}
    # Never fall back to the team's real offline copies from a test.
    config["offline_data_dir"] = str(tmp / "no-offline-copies")
    config.setdefault("imdb", {})["archive"] = str(
        fixtures.make_imdb_archive(tmp / "data" / "aclImdb_v1.tar.gz")
    )
    config["imdb"]["sha256"] = [fixtures_sha256(Path(config["imdb"]["archive"]))]
    # Stages with data of their own add a builder `make_<section>_archive(path)` to
    # fixtures.py, returning the path, or (path, accepted sha256) when the checksum
    # is not the file's own (power: the sha256 of the text inside the .gz).
    for name in dir(fixtures):
        section = name.removeprefix("make_").removesuffix("_archive")
        if name.startswith("make_") and name.endswith("_archive") and section != "imdb":
            built = getattr(fixtures, name)(tmp / "data" / section)
            path, sha = built if isinstance(built, tuple) else (built, fixtures_sha256(Path(built)))
            config.setdefault(section, {})["archive"] = str(path)
            config[section]["sha256"] = [sha]
    path = tmp / "smoke-config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=True))
    return path


def fixtures_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def snakemake_cmd(workdir: Path, configfile: Path, *args: str, cores: int = 2) -> list[str]:
    """The command that runs the real workflow in `workdir` (outputs land there)."""
    return [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(configfile),
        "--cores", str(cores),
        *args,
    ]  # fmt: skip


def run_snakemake(workdir: Path, configfile: Path, *args: str, check: bool = True):
    """Run the real workflow in `workdir` (outputs land there, code comes from the repo)."""
    cmd = snakemake_cmd(workdir, configfile, *args)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
        )
    return proc


def planned_jobs(workdir: Path, configfile: Path, *args: str) -> dict[str, int]:
    """Rule -> number of jobs a dry run would execute."""
    proc = run_snakemake(workdir, configfile, *args, "-n")
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M))
    return {rule: int(n) for rule, n in jobs.items() if rule not in {"total", "all"}}


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The whole pipeline, once per test session, on the smoke config and fixture data."""
    workdir = tmp_path_factory.mktemp("smoke")
    configfile = smoke_config(workdir)
    run_snakemake(workdir, configfile)
    return workdir
