# Shared helpers for every rule file: paths, code dependencies, input functions.
import json
import os

REPO = workflow.basedir
RESULTS = "results"
# Each rule file appends what `rule all` must build; `final_targets()` returns them.
FINAL_TARGETS = []


def code(*modules):
    """Source files of rnnlab modules a rule runs, as inputs: editing one reruns the rule.

    Snakemake cannot see code behind `python -m`, so every rule lists the modules
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
        return repo_path(cfg["archive"])
    offline = os.path.join(repo_path(config["offline_data_dir"]), cfg["offline_name"])
    if os.path.exists(offline):
        return offline
    return download_target


def final_targets():
    return FINAL_TARGETS


# The report's inputs, registered by each stage: summary key -> summary.json,
# figure id -> figure file. report.smk reads both.
REPORT_SUMMARIES = {}
REPORT_FIGURES = {}
# Written by the font rule (report.smk): which Persian font files to use.
FONT_MANIFEST = "resources/fonts/fonts.json"
