#!/usr/bin/env bash
# Overhead of running through SLURM: the smoke pipeline from scratch, once with
# the local executor and once through profiles/slurm, same machine, same config
# (config/smoke.yaml + fixture archives, built as the tests build them).
# Needs a running cluster (scripts/slurm/start_local_slurm.sh).
#
#   bash scripts/slurm/benchmark_overhead.sh [workdir]   # default: a new temp dir
#
# Prints one line per run: mode, wall seconds, jobs run, and the SLURM jobs' own
# run time summed from the job completion log.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BASE=${1:-$(mktemp -d /tmp/rnnlab-slurm-bench.XXXXXX)}
PY=${PYTHON:-python3}
mkdir -p "$BASE"

make_config() {  # make_config <workdir>: fixture archives + smoke config in <workdir>
    mkdir -p "$1"
    (cd "$REPO/tests" && "$PY" -c 'import sys; from pathlib import Path; from conftest import smoke_config; print(smoke_config(Path(sys.argv[1])))' "$1")
}

run() {  # run <mode> <extra snakemake args...>
    local mode=$1 dir=$BASE/$1 start end
    shift
    local config
    config=$(make_config "$dir")
    start=$(date +%s.%N)
    PYTHONHASHSEED=0 "$PY" -m snakemake --snakefile "$REPO/Snakefile" --directory "$dir" \
        --configfile "$config" --cores 2 "$@" >"$dir/snakemake.log" 2>&1 \
        || { tail -n 30 "$dir/snakemake.log" >&2; echo "$mode run failed: $dir/snakemake.log" >&2; exit 1; }
    end=$(date +%s.%N)
    local jobs
    jobs=$(grep -cE '^(local)?rule [A-Za-z0-9_]+:$' "$dir/snakemake.log" || true)
    printf '%-6s wall %7.1f s  jobs %3d' "$mode" "$("$PY" -c "print($end - $start)")" "$jobs"
    if [[ $mode == slurm ]]; then
        # Sum of the jobs' own run times (StartTime..EndTime) in the completion log.
        local ids
        ids=$(grep -oE 'submitted with SLURM jobid [0-9]+' "$dir/snakemake.log" | awk '{print $NF}' | paste -sd, -)
        "$PY" - "$ids" "$(scontrol show config | awk -F' = ' '/^JobCompLoc/ {print $2}')" <<'EOF'
import sys
from datetime import datetime

ids, path = set(sys.argv[1].split(",")), sys.argv[2]
total = 0.0
for line in open(path):
    record = dict(field.partition("=")[::2] for field in line.split())
    if record.get("JobId") in ids:
        start, end = (datetime.fromisoformat(record[k]) for k in ("StartTime", "EndTime"))
        total += (end - start).total_seconds()
print(f"  sbatch jobs {len(ids)}, their run time summed {total:.0f} s", end="")
EOF
    fi
    echo
}

run local
run slurm --profile "$REPO/profiles/slurm" --slurm-no-account \
    --slurm-status-command squeue --slurm-init-seconds-before-status-checks 3
echo "work dirs: $BASE"
