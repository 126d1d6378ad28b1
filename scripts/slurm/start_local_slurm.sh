#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for testing the SLURM profile
# (profiles/slurm) end to end: installs Debian's slurm-wlm and munge, writes a
# slurm.conf for localhost, starts munged, slurmctld and slurmd without systemd
# and waits until the node is idle. Idempotent: a second run changes nothing
# that is already right, and restarts the daemons only when the config changed.
#
#   bash scripts/slurm/start_local_slurm.sh          # start (or check) the cluster
#   bash scripts/slurm/start_local_slurm.sh --stop   # stop the daemons it started
#
# Needs root (apt, /etc/slurm, daemons) or password-less sudo. Works in a
# container without systemd or cgroups: processes are tracked through /proc
# (proctrack/linuxproc), no task plugin.
# Accounting (slurmdbd) is off; finished jobs are recorded by jobcomp/filetxt in
# $SLURM_LOG_DIR/jobcomp.log, and job status is read with `squeue` (MinJobAge
# keeps finished jobs visible to it for 10 minutes).
set -euo pipefail

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
SLURM_LOG_DIR=/var/log/slurm
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
RUN_DIR=/run/slurm
MUNGE_RUN_DIR=/run/munge
WAIT_SECONDS=${SLURM_START_TIMEOUT:-60}

log() { echo "[start_local_slurm] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
    # CI runners usually allow password-less sudo.
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n bash "$0" "$@"
    fi
    die "needs root (apt-get, /etc/slurm, daemons); rerun with sudo."
fi

# A pid file names a live process of the expected program.
running() {  # running <pidfile> <program name>
    local pid
    [[ -s $1 ]] || return 1
    pid=$(cat "$1")
    [[ -d /proc/$pid ]] && grep -qx "$2" "/proc/$pid/comm" 2>/dev/null
}

stop_daemon() {  # stop_daemon <pidfile> <program name>
    if running "$1" "$2"; then
        local pid
        pid=$(cat "$1")
        log "stopping $2 (pid $pid)"
        kill "$pid"
        for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
    fi
    rm -f "$1"
}

if [[ ${1:-} == --stop ]]; then
    stop_daemon "$RUN_DIR/slurmd.pid" slurmd
    stop_daemon "$RUN_DIR/slurmctld.pid" slurmctld
    stop_daemon "$MUNGE_RUN_DIR/munged.pid" munged
    exit 0
fi

# 1. Packages (only when missing: a second run needs no network).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sinfo >/dev/null; then
    log "installing slurm-wlm and munge (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends slurm-wlm munge
fi

# 2. munge: the key and the daemon that signs every slurm message.
install -d -o munge -g munge -m 0700 /etc/munge
install -d -o munge -g munge -m 0755 "$MUNGE_RUN_DIR" /var/log/munge
install -d -o munge -g munge -m 0700 /var/lib/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    log "creating the munge key"
    mungekey --create --keyfile /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0600 /etc/munge/munge.key
fi
if ! running "$MUNGE_RUN_DIR/munged.pid" munged; then
    log "starting munged"
    rm -f "$MUNGE_RUN_DIR/munged.pid"
    runuser -u munge -- munged --pid-file="$MUNGE_RUN_DIR/munged.pid"
fi
munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)."

# 3. slurm.conf for this host, with what slurmd itself detects (CPUs, sockets,
# cores, threads, memory), so the node never drains for a mismatch.
HOST=$(hostname -s)
NODE_HW=$(slurmd -C | head -n1 | sed -E 's/^NodeName=[^ ]+ //')
[[ $NODE_HW == *CPUs=* ]] || die "slurmd -C gave no hardware line: $NODE_HW"
install -d -m 0755 "$CONF_DIR"
install -d -o slurm -g slurm -m 0755 "$SLURM_LOG_DIR" "$STATE_DIR" "$RUN_DIR"
install -d -m 0755 "$SPOOL_DIR"
NEW_CONF=$(mktemp)
trap 'rm -f "$NEW_CONF"' EXIT
cat >"$NEW_CONF" <<EOF
# Written by rnnlab scripts/slurm/start_local_slurm.sh: a one-node test cluster.
ClusterName=rnnlab-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_LOG_DIR/slurmctld.log
SlurmdLogFile=$SLURM_LOG_DIR/slurmd.log
# No cgroups or systemd in a container: track job processes through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# CPUs and memory are consumable, so jobs share the node like on a real cluster.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job without --mem takes 1 GB per CPU, not the whole node.
DefMemPerCPU=1000
# No slurmdbd: finished jobs go to a text file; snakemake polls with squeue,
# which sees a finished job for MinJobAge seconds.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_LOG_DIR/jobcomp.log
MinJobAge=600
# A restarted slurmd brings the node straight back.
ReturnToService=2
SlurmdTimeout=60
SchedulerType=sched/backfill
NodeName=$HOST NodeAddr=127.0.0.1 $NODE_HW State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

CHANGED=0
if ! cmp -s "$NEW_CONF" "$CONF"; then
    log "writing $CONF"
    install -m 0644 "$NEW_CONF" "$CONF"
    CHANGED=1
fi

# 4. Daemons: restart only after a config change, start only what is not running.
if [[ $CHANGED == 1 ]]; then
    stop_daemon "$RUN_DIR/slurmd.pid" slurmd
    stop_daemon "$RUN_DIR/slurmctld.pid" slurmctld
fi
if ! running "$RUN_DIR/slurmctld.pid" slurmctld; then
    log "starting slurmctld"
    slurmctld -f "$CONF"
fi
if ! running "$RUN_DIR/slurmd.pid" slurmd; then
    log "starting slurmd"
    slurmd -f "$CONF"
fi

# 5. Wait for the controller and an idle (or busy, on a rerun) node.
state=""
for _ in $(seq "$WAIT_SECONDS"); do
    state=$(sinfo -h -N -n "$HOST" -o %t 2>/dev/null | head -n1 || true)
    case $state in
        idle | mix | alloc | comp) break ;;
        down* | drain* | drng*)
            # Left over from an earlier run (e.g. a restart with another config).
            scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
done
case $state in
    idle | mix | alloc | comp) ;;
    *)
        tail -n 20 "$SLURM_LOG_DIR/slurmctld.log" "$SLURM_LOG_DIR/slurmd.log" >&2 || true
        die "node $HOST is '${state:-unreachable}' after ${WAIT_SECONDS}s (logs above)." ;;
esac
log "cluster up: node $HOST is $state"
sinfo >&2
