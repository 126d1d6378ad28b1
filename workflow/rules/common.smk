# Shared helpers for every stage: paths, code dependencies, input functions.
import json
import os

from snakemake.exceptions import WorkflowError

REPO = workflow.basedir
RESULTS = "results"
# Each stage file appends the outputs the default target builds; `final_targets()` returns them.
FINAL_TARGETS = []


def from_workdir(path):
    """`path` relative to the working directory when it lies inside it, else absolute.

    Snakemake records each job's input paths. Relative ones stay the same when the
    project folder (code and results together) is moved or renamed; absolute ones
    stay the same when a working directory outside the repository (`--directory`)
    is moved. Either way a moved run has nothing to rerun.
    """
    relative = os.path.relpath(path)
    return os.path.abspath(path) if relative.startswith(os.pardir) else relative


def code(*modules):
    """Source files of the rnnlab modules a job runs, as inputs; editing one reruns the job.

    Snakemake cannot see code behind `python -m`, so each job lists the modules
    it imports (paths relative to src/rnnlab).
    """
    return [
        from_workdir(os.path.join(REPO, "src", "rnnlab", m))
        for m in ("runtime.py", "errors.py", *modules)
    ]


def repo_path(path):
    """A config path: absolute as given, else relative to the repository root."""
    return path if os.path.isabs(path) else from_workdir(os.path.join(REPO, path))


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


# Q7 (forecast.smk): power data and the forecasting runs.
POWER = f"{RESULTS}/data/power"
POWER_DOWNLOAD = "resources/power/individual_household_electric_power_consumption.zip"
FORECAST = f"{RESULTS}/forecast"
FORECAST_ARCHS = ["rnn", "lstm", "gru", "bilstm"]
# Part (e): the full LSTM is the part-a LSTM; these two are the ablated variants.
FORECAST_ABLATIONS = ["lstm_forget_only", "lstm_input_only"]


def power_archive(wildcards=None):
    return local_archive("power", POWER_DOWNLOAD)


def forecast_runs():
    """(model, length) of every trained model: 4 architectures x lengths + ablations."""
    cfg = config["forecast"]
    runs = [(m, n) for m in FORECAST_ARCHS for n in cfg["lengths"]]
    return runs + [(m, cfg["main_length"]) for m in FORECAST_ABLATIONS]


def forecast_train_params(wildcards):
    """Only what this one run depends on (not the list of lengths, not other models)."""
    cfg = config["forecast"]
    keys = ("hidden", "layers", "epochs", "batch_size", "lr", "grad_clip", "train_subsample", "seed")
    return as_json(
        {k: cfg[k] for k in keys}
        | {
            "model": wildcards.model,
            "length": int(wildcards.length),
            # Test targets shared by every length: each run depends on the longest window.
            "common_length": max(cfg["lengths"]),
            "device": config["device"],
        }
    )


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
# GPUs a training or probe job asks a cluster for (`resources: gpu=JOB_GPUS`;
# profiles/slurm turns it into `sbatch --gpus`): one when the config says cuda.
# `auto` asks for none and uses a GPU only where the job happens to land on one.
JOB_GPUS = 1 if config["device"] == "cuda" else 0
# cuBLAS picks its matmul reduction order per call unless this is set before CUDA
# starts (torch's reproducibility notes); jobs, local or sbatch, inherit it. With
# cuDNN's deterministic mode (rnnlab.runtime.seed_everything) a CUDA run repeats
# its numbers on the same GPU model. CPU-only runs ignore it.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


# Report (report.smk): what report_collect reads, as input functions, since
# stages included after report.smk register their summaries later.
def report_summary_inputs(wildcards):
    # A function, not a value: stages included after this file register later.
    return [REPORT_SUMMARIES[key] for key in sorted(REPORT_SUMMARIES)]


def report_summary_flags(wildcards):
    return " ".join(f"--summary {key}={REPORT_SUMMARIES[key]}" for key in sorted(REPORT_SUMMARIES))


def report_data_archives():
    """The data archives this run read, for the checksums in the appendix."""
    archives = {}
    for section, finder in (("imdb", "imdb_archive"), ("power", "power_archive")):
        if section in config and finder in globals():
            archives[section] = globals()[finder]()
    return archives


def report_data_inputs(wildcards):
    archives = report_data_archives()
    return [archives[key] for key in sorted(archives)]


def report_data_flags(wildcards):
    archives = report_data_archives()
    return " ".join(f"--data {key}={archives[key]}" for key in sorted(archives))


def report_figure_inputs(wildcards):
    return [REPORT_FIGURES[key] for key in sorted(REPORT_FIGURES)]
