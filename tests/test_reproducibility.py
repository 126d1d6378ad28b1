"""What a grader relies on: identical results from two runs, and reruns of only what changed.

A second smoke run happens in a copy of the repository's workflow files, so the tests
can edit a template or the config there without touching the real checkout. The copy
lives in a folder whose path has spaces and Persian letters, and so do its archives:
every path a rule passes to a shell command must survive that.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import conftest
import pytest
import yaml
from conftest import REPO, run_snakemake, smoke_config

from rnnlab.verify import Tolerance, compare

COPIED = ["Snakefile", "workflow", "config", "templates", "src", "environment.yml"]
REPORT_RULES = {"report_html", "report_pdf"}
# The project folder of the copy: a space and Persian letters (with a ZWNJ) in its path.
ODD_FOLDER = "پروژه‌های من/rnn lab"


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    """A second, independent smoke run in a copy of the workflow (same config, same data)."""
    root = tmp_path_factory.mktemp("repo-copy") / ODD_FOLDER
    root.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    fonts = REPO / "resources" / "fonts"
    if fonts.is_dir():  # reuse the verified font download instead of fetching it again
        shutil.copytree(fonts, root / "resources" / "fonts")
    configfile = smoke_config(root)
    run_snakemake(root, configfile, "--snakefile", str(root / "Snakefile"))
    return root


def planned_jobs(workdir: Path, configfile: Path) -> dict[str, int]:
    """Rule -> jobs a dry run of the copied workflow (its own Snakefile) would execute."""
    return conftest.planned_jobs(workdir, configfile, "--snakefile", str(workdir / "Snakefile"))


def load_results(workdir: Path) -> dict:
    return json.loads((workdir / "report" / "results.json").read_text())


def test_two_runs_in_separate_directories_give_identical_results(smoke_run, repo_copy):
    first, second = load_results(smoke_run), load_results(repo_copy)
    # Exact: zero tolerance everywhere; only `meta` and timings (measurements of the
    # machine, see rnnlab.verify) are left out.
    assert compare(first, second, trained=Tolerance(rel=0.0, abs=0.0)) == []
    assert {"imdb", "theory", "q6a", "q7"} <= set(first)


def test_a_project_and_archives_under_spaces_and_persian_letters(repo_copy):
    config = yaml.safe_load((repo_copy / "smoke-config.yaml").read_text())
    for path in (repo_copy, Path(config["imdb"]["archive"]), Path(config["power"]["archive"])):
        assert " " in str(path) and "پروژه" in str(path), path
    assert (repo_copy / "report" / "rnnlab-report.pdf").stat().st_size > 10_000
    results = load_results(repo_copy)
    assert set(results["meta"]["data"]) == {"imdb", "power"}


def test_no_op_run_does_nothing(repo_copy):
    assert planned_jobs(repo_copy, repo_copy / "smoke-config.yaml") == {}


def test_template_edit_reruns_only_the_report(repo_copy):
    template = repo_copy / "templates" / "sections" / "q1.html.j2"
    original = template.read_text()
    template.write_text(original + "\n{# an edit #}\n")
    try:
        assert set(planned_jobs(repo_copy, repo_copy / "smoke-config.yaml")) == REPORT_RULES
    finally:
        template.write_text(original)


def test_an_edit_every_job_imports_reruns_them_in_one_run(repo_copy):
    # errors.py is in the import closure of every rule's module, the checksums' included.
    module = repo_copy / "src" / "rnnlab" / "errors.py"
    original = module.read_text()
    module.write_text(original + "\n# an edit\n")
    try:
        jobs = set(planned_jobs(repo_copy, repo_copy / "smoke-config.yaml"))
    finally:
        module.write_text(original)
    # The data are prepared again and the models retrained now, not after a second run.
    assert {"imdb_parse", "power_prepare", "sentiment_train", "forecast_train"} <= jobs
    # A checksum depends on the archive, not on the package.
    assert not jobs & {"imdb_checksum", "power_checksum"}


def test_changing_one_length_reruns_only_that_length(repo_copy):
    configfile = repo_copy / "smoke-config.yaml"
    config = yaml.safe_load(configfile.read_text())
    lengths = list(config["sentiment"]["lengths"])
    # The shortest length moves by one token (the probes use another length).
    new_lengths = [lengths[0] + 1, *lengths[1:]]
    changed = {**config, "sentiment": {**config["sentiment"], "lengths": new_lengths}}
    edited = repo_copy / "length-config.yaml"
    edited.write_text(yaml.safe_dump(changed))
    jobs = planned_jobs(repo_copy, edited)
    models = config["sentiment"].get("models", ["rnn", "lstm"])
    seeds = config["sentiment"].get("seeds") or [config.get("seed", 0)]
    # One new training job per (model, seed) at the new length, nothing else trained again.
    assert jobs.get("sentiment_train") == len(models) * len(seeds)
    retrained = {rule for rule in jobs if rule.endswith("_train") or rule.startswith("theory_")}
    assert retrained == {"sentiment_train"}
    assert not any(rule.startswith(("probe_", "forecast_", "power_")) for rule in jobs)


def test_a_moved_project_has_nothing_to_rerun(repo_copy, tmp_path):
    # The student renames the folder, the grader unpacks it elsewhere: Snakemake must
    # still find every recorded input (code and templates are recorded relative).
    moved = tmp_path / "moved-project"
    shutil.copytree(repo_copy, moved, symlinks=True)  # keeps mtimes and .snakemake
    assert planned_jobs(moved, moved / "smoke-config.yaml") == {}
