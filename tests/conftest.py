"""Shared fixtures: the end-to-end smoke run of the whole pipeline on fixture archives."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import fixtures
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


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
