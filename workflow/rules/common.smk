# Generic helpers every stage file uses: paths, config values as params, code inputs,
# the registries the default target and the report read. Stage-specific paths,
# constants and input functions live in the stage's own file.
import importlib.util
import json
import math
import os
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError

REPO = workflow.basedir


def config_error(key, problem, fix):
    """Stop before any job runs, naming the config key, what is wrong and the fix."""
    raise WorkflowError(f"config error at {key}: {problem}; {fix}")


def reject_non_finite(value, key="config"):
    """JSON Schema's `number` admits YAML's .inf and .nan; no setting of ours means either."""
    if isinstance(value, dict):
        for name, item in value.items():
            reject_non_finite(item, f"{key}.{name}" if key != "config" else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            reject_non_finite(item, f"{key}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        config_error(key, f"{value} is not a finite number", "give a finite value")


# The schema (validated in the Snakefile) filled every default and checked every
# range; what it cannot express is checked here and in the stage files, at parse
# time, so a bad config stops before Snakemake deletes any output.
reject_non_finite(config)
RESULTS = "results"
# Each stage file appends the outputs the default target builds; `final_targets()` returns them.
FINAL_TARGETS = []
# The report's inputs, registered by each stage: summary key -> summary.json,
# figure id -> figure file. report.smk (included last) reads both.
REPORT_SUMMARIES = {}
REPORT_FIGURES = {}
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
# Speed only, no number changes. PyTorch frees its large per-batch buffers (the LSTM
# kernels' workspaces) and glibc's malloc hands such blocks back to the kernel at
# once, so every batch faults freshly zeroed pages in again: 3.5 million page faults
# and about a third of the CPU time of a Q7 epoch, a fifth of a Q6 one, was kernel
# time. Keeping freed memory in the process removes it (docs/benchmarks.md, "Where
# the time goes"); the trained numbers are bit-identical. Blocks over 160 MB still
# come from the kernel and go back: with every block kept, the 210-MB buffers of a
# Q6 evaluation batch fragmented the heap and one LSTM at L=400 grew to 4-6 GB,
# against 1.8 GB now, while the training workspaces (up to ~100 MB, the Q7 BiLSTM)
# stay in the process ("Peak memory"). Jobs inherit these; a value already in the
# environment wins.
MALLOC_KEEP_FREED_MEMORY = {
    "MALLOC_MMAP_THRESHOLD_": str(160 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(4 << 30),
    "MALLOC_TOP_PAD_": str(256 << 20),
}
for _name, _value in MALLOC_KEEP_FREED_MEMORY.items():
    os.environ.setdefault(_name, _value)


def _load_codedeps():
    # Loaded from its file (standard library only): the workflow must parse even
    # where rnnlab itself is not importable (--use-conda installs it per job).
    path = os.path.join(REPO, "workflow", "lib", "codedeps.py")
    spec = importlib.util.spec_from_file_location("rnnlab_workflow_codedeps", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


codedeps = _load_codedeps()
SRC = Path(REPO) / "src"


def from_workdir(path):
    """`path` relative to the working directory when it lies inside it, else absolute.

    Snakemake records each job's input paths. Relative ones stay the same when the
    project folder (code and results together) is moved or renamed; absolute ones
    stay the same when a working directory outside the repository (`--directory`)
    is moved. Either way a moved run has nothing to rerun.
    """
    relative = os.path.relpath(path)
    return os.path.abspath(path) if relative.startswith(os.pardir) else relative


def module_code(entry):
    """Source files `python -m <entry>` runs, as inputs: editing one reruns the job.

    The import closure of the module inside rnnlab (workflow/lib/codedeps.py),
    computed when the DAG is built. tests/test_workflow_code.py checks that every
    rule's code inputs are the closure of the module its shell line runs.
    """
    return [from_workdir(os.path.join(SRC, path)) for path in codedeps.closure(SRC, entry)]


def repo_path(path):
    """A config path: absolute as given, else relative to the repository root."""
    return path if os.path.isabs(path) else from_workdir(os.path.join(REPO, path))


def as_json(obj):
    """A params value for `--params {params.x:q}`: stable JSON of a config section."""
    return json.dumps(obj, sort_keys=True)


def flags(flag, values):
    """`--flag v1 --flag v2 ...` as a list, for `{params.x:q}` (each word quoted)."""
    return [word for value in values for word in (flag, value)]


def local_archive(section, download_target):
    """Where a data archive comes from, in the documented lookup order.

    1. the path the config names (`<section>.archive`), used as is; a missing file
       stops the workflow before any job runs, naming the key;
    2. the team's offline copy `<offline_data_dir>/<offline_name>` if it exists;
    3. else `download_target` under resources/, which the section's download rule fetches.
    """
    cfg = config[section]
    if cfg["archive"]:
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


def checksum_file(folder, archive):
    """Where the checksum job of `archive` writes: one file per archive path.

    Snakemake deletes a job's output before running it, and a failed job's after.
    Were the file shared, trying a wrong archive would delete the good archive's
    checksum, and putting the good one back would then rerun everything prepared
    from it; with one file per archive the good one's file is never touched.
    """
    tag = re.sub(r"[^\w.-]+", "_", archive).strip("_")
    return f"{folder}/checksums/{tag}.sha256"


def final_targets():
    return FINAL_TARGETS


# Scheduling only (no result depends on it). With more jobs ready than cores,
# Snakemake starts the highest `priority` first. A training's priority is its
# expected CPU-seconds, so the longest start first and a run does not end with
# one long job on one core while the others idle; the IMDb preparation every Q6
# training waits for outranks them all.
PREPARE_FIRST = 100_000


def expected_cpu_seconds(per_step):
    """A priority function: the model's CPU-seconds per step of window length x the length.

    `per_step` maps model -> CPU-seconds of a whole training (all epochs, with
    evaluation) per step of input length, measured on the reference run
    (docs/benchmarks.md); a model missing from it counts as the dearest.
    """
    dearest = max(per_step.values())
    return lambda wildcards: round(per_step.get(wildcards.model, dearest) * int(wildcards.length))
