# Shared helpers for every stage: paths, code dependencies, input functions.
import json
import os

from snakemake.exceptions import WorkflowError

REPO = workflow.basedir
RESULTS = "results"
# Each stage file appends the outputs the default target builds; `final_targets()` returns them.
FINAL_TARGETS = []


def code(*modules):
    """Source files of the rnnlab modules a job runs, as inputs; editing one reruns the job.

    Snakemake cannot see code behind `python -m`, so each job lists the modules
    it imports (paths relative to src/rnnlab).
    """
    return [os.path.join(REPO, "src", "rnnlab", m) for m in ("runtime.py", "errors.py", *modules)]


def repo_path(path):
    """A config path relative to the repository root (absolute paths pass through)."""
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(REPO, path))


def as_json(obj):
    """A params value for `--params {params.x:q}`: stable JSON of a config section."""
    return json.dumps(obj, sort_keys=True)


def local_archive(section, download_target):
    """Where a data archive comes from, in the documented lookup order.

    1. the path the config names (`<section>.archive`), used as is, even if missing:
       the job then fails with a message naming it;
    2. the team's offline copy `<offline_data_dir>/<offline_name>` if it exists;
    3. else `download_target` under resources/, which the section's download rule fetches.
    """
    cfg = config[section]
    if cfg.get("archive"):
        path = repo_path(cfg["archive"])
        if not os.path.exists(path):
            raise WorkflowError(
                f"{section}.archive is set to {path}, which does not exist. Fix the path in "
                f"the config, or set {section}.archive to null to use the offline copy in "
                f"offline_data_dir or the download."
            )
        return path
    offline = os.path.join(repo_path(config["offline_data_dir"]), cfg["offline_name"])
    if os.path.exists(offline):
        return offline
    return download_target


IMDB = f"{RESULTS}/data/imdb"
IMDB_DOWNLOAD = "resources/aclImdb_v1.tar.gz"


def imdb_archive(wildcards=None):
    return local_archive("imdb", IMDB_DOWNLOAD)


def imdb_lengths():
    """Lengths the length-statistics table reports: the configured training lengths."""
    lengths = config.get("sentiment", {}).get("lengths") or [config["imdb"]["max_length"]]
    too_long = [n for n in lengths if n > config["imdb"]["max_length"]]
    if too_long:
        raise ValueError(
            f"sentiment lengths {too_long} exceed imdb.max_length={config['imdb']['max_length']}: "
            "raise imdb.max_length in the config."
        )
    return sorted(lengths)


def final_targets():
    return FINAL_TARGETS


# The report's inputs, registered by each stage: summary key -> summary.json,
# figure id -> figure file. report.smk reads both.
REPORT_SUMMARIES = {}
REPORT_FIGURES = {}
# Written by the font job of report.smk; names the Persian font files to use.
FONT_MANIFEST = "resources/fonts/fonts.json"
# Software of every job, used with --use-conda (the pip path is in the README).
CONDA_ENV = os.path.join(REPO, "environment.yml")
