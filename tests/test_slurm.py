"""The smoke pipeline on a real SLURM cluster, through profiles/slurm and the executor plugin.

CI starts a one-node cluster first (`bash scripts/slurm/start_local_slurm.sh`);
where no cluster answers, every test here is skipped with the reason.
The checks: every job of the DAG ran as a SLURM batch job that completed; every
check of the local smoke run (any test taking only the `smoke_run` fixture)
also holds for the SLURM run's outputs; and every tensor the SLURM run saved
(data, checkpoints) is bit-identical to the local run's.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from conftest import REPO, run_snakemake, smoke_config

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PROFILE = REPO / "profiles" / "slurm"
START_SCRIPT = "bash scripts/slurm/start_local_slurm.sh"
# Node states in which the cluster can run a job now or soon.
USABLE_NODE_STATES = {"idle", "mix", "alloc", "comp"}
# The local test cluster keeps no accounting database (so no accounts either),
# and job status comes from squeue (the cluster's MinJobAge keeps finished jobs
# visible to it); the short first status check keeps a chain of few-second jobs
# from idling.
LOCAL_CLUSTER_ARGS = (
    "--slurm-no-account",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "3",
)
SUBMITTED = re.compile(
    r"Job (?P<job>\d+) has been submitted with SLURM jobid (?P<slurm_id>\d+) "
    r"\(log: (?P<log>\S+)\)\."
)
RULE_OF_LOG = re.compile(r"/rule_(?P<rule>[^/]+)/")


def cluster_problem() -> str | None:
    """Why the SLURM tests cannot run here, or None when a cluster answers."""
    if shutil.which("sinfo") is None:
        return f"no SLURM client (sinfo) on PATH; CI starts a local cluster with `{START_SCRIPT}`"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed: `pip install -e .`"
    try:
        proc = subprocess.run(
            ["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "sinfo did not answer in 30 s: the SLURM controller is not responding"
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        return f"SLURM controller not reachable ({reason[0]}); start it with `{START_SCRIPT}`"
    states = {state.rstrip("*~#!%$@^-") for state in proc.stdout.split()}
    if not states & USABLE_NODE_STATES:
        return f"no SLURM node can take jobs (node states: {sorted(states) or 'none'})"
    return None


@dataclass(frozen=True)
class SlurmRun:
    workdir: Path
    log: str  # snakemake's own output (stdout + stderr)
    submissions: list[dict[str, str]]  # one per sbatch: job, slurm_id, log


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory) -> SlurmRun:
    """The whole smoke pipeline, once, with every job submitted to SLURM."""
    problem = cluster_problem()
    if problem:
        pytest.skip(problem)
    workdir = tmp_path_factory.mktemp("slurm-smoke")
    configfile = smoke_config(workdir)
    proc = run_snakemake(workdir, configfile, "--profile", str(PROFILE), *LOCAL_CLUSTER_ARGS)
    log = proc.stdout + proc.stderr
    submissions = [match.groupdict() for match in SUBMITTED.finditer(log)]
    return SlurmRun(workdir, log, submissions)


def planned_rules(workdir: Path) -> Counter[str]:
    """Jobs per rule of the run's DAG from scratch: a dry run, same config, empty directory."""
    dry = workdir.parent / f"{workdir.name}-dry"
    dry.mkdir(exist_ok=True)
    proc = run_snakemake(dry, workdir / "smoke-config.yaml", "-n", "--quiet", "rules")
    counts: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and fields[0] not in ("job", "total"):
            counts[fields[0]] = int(fields[1])
    assert counts, f"no job counts in the dry run's output:\n{proc.stdout}"
    return counts


def declared_local_rules() -> set[str]:
    """Rules meant to run on the submit host: the target rule and any `localrules:`."""
    names = {"all"}
    for path in [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]:
        for match in re.finditer(r"^localrules:\s*(.+)$", path.read_text(), re.MULTILINE):
            names.update(name.strip() for name in match.group(1).split(",") if name.strip())
    return names


def slurm_job_states(slurm_ids: list[str]) -> dict[str, str]:
    """Final state of each SLURM job id, from the job completion log or squeue."""
    config = subprocess.run(
        ["scontrol", "show", "config"], capture_output=True, text=True, check=True
    ).stdout
    settings = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition("=") for line in config.splitlines())
    )
    states: dict[str, str] = {}
    completion_log = Path(settings.get("JobCompLoc", ""))
    if settings.get("JobCompType") == "jobcomp/filetxt" and os.access(completion_log, os.R_OK):
        # One line per finished job: "JobId=12 ... JobState=COMPLETED ..."
        for line in completion_log.read_text().splitlines():
            record = dict(field.partition("=")[::2] for field in line.split())
            if record.get("JobId") in slurm_ids:
                states[record["JobId"]] = record["JobState"]
    missing = [job for job in slurm_ids if job not in states]
    if missing:
        proc = subprocess.run(
            ["squeue", "--noheader", "--states=all", "--format=%i|%T", "--jobs", ",".join(missing)],
            capture_output=True,
            text=True,
        )
        for line in proc.stdout.splitlines():
            job, _, state = line.partition("|")
            states[job.strip()] = state.strip()
    return states


def test_every_job_ran_on_slurm(slurm_run: SlurmRun):
    assert slurm_run.submissions, f"no job was submitted to SLURM:\n{slurm_run.log[-4000:]}"
    # Snakemake prints "rule X:" for a job it hands to the executor, "localrule X:"
    # for one it runs itself; together they must be the whole DAG.
    remote = Counter(re.findall(r"^rule (\w+):$", slurm_run.log, re.MULTILINE))
    local = Counter(re.findall(r"^localrule (\w+):$", slurm_run.log, re.MULTILINE))
    assert remote + local == planned_rules(slurm_run.workdir)
    assert set(local) <= declared_local_rules(), f"jobs run outside SLURM: {dict(local)}"
    submitted = Counter()
    for submission in slurm_run.submissions:
        match = RULE_OF_LOG.search(submission["log"])
        assert match, f"sbatch log path without its rule: {submission['log']}"
        submitted[match["rule"]] += 1
        # The profile keeps every job's sbatch log; it holds the job's own output.
        assert Path(submission["log"]).is_file(), f"missing SLURM log {submission['log']}"
    assert submitted == remote
    slurm_ids = [submission["slurm_id"] for submission in slurm_run.submissions]
    states = slurm_job_states(slurm_ids)
    not_completed = {job: states.get(job, "unknown") for job in slurm_ids}
    not_completed = {job: state for job, state in not_completed.items() if state != "COMPLETED"}
    assert not not_completed, f"SLURM jobs that did not complete: {not_completed}"


def smoke_checks() -> list[tuple[str, Callable[[Path], None]]]:
    """Every test elsewhere in tests/ that checks the local smoke run through `smoke_run` alone."""
    checks = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        if path.stem == Path(__file__).stem:
            continue
        module = importlib.import_module(path.stem)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if (
                name.startswith("test_")
                and function.__module__ == module.__name__
                and list(inspect.signature(function).parameters) == ["smoke_run"]
            ):
                checks.append((f"{path.stem}::{name}", function))
    return checks


@pytest.mark.parametrize(
    "check", [function for _, function in smoke_checks()], ids=[n for n, _ in smoke_checks()]
)
def test_local_smoke_checks_hold(slurm_run: SlurmRun, check: Callable[[Path], None]):
    check(slurm_run.workdir)


def tensors(obj: object, path: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor inside a loaded .pt file (nested dicts and lists), by its path."""
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from tensors(value, f"{path}/{key}")
    elif isinstance(obj, list | tuple):
        for index, value in enumerate(obj):
            yield from tensors(value, f"{path}[{index}]")


def test_same_tensors_as_the_local_run(slurm_run: SlurmRun, smoke_run: Path):
    # Same config, same machine: the executor must not change a single weight.
    # Only tensors are compared; checkpoints also record wall times, which differ.
    local_files = sorted(p.relative_to(smoke_run) for p in (smoke_run / "results").rglob("*.pt"))
    slurm_files = sorted(
        p.relative_to(slurm_run.workdir) for p in (slurm_run.workdir / "results").rglob("*.pt")
    )
    assert slurm_files == local_files and slurm_files, "the two runs wrote different .pt files"
    for relative in slurm_files:
        # Our own outputs, which also hold plain Python values next to the tensors.
        local = dict(tensors(torch.load(smoke_run / relative, weights_only=False)))
        remote = dict(tensors(torch.load(slurm_run.workdir / relative, weights_only=False)))
        assert local.keys() == remote.keys() and local, f"{relative}: other tensors"
        differing = [name for name in local if not torch.equal(local[name], remote[name])]
        assert not differing, f"{relative}: tensors differ from the local run: {differing[:5]}"
