#!/usr/bin/env bash
# Starts a real single-node Slurm cluster on this machine for `skill-eval submit slurm` and its test
# (tests/submit/slurm-cluster.test.ts):
#   1. installs Debian's slurm-wlm (slurmctld, slurmd, sbatch…) and munge if missing;
#   2. makes a munge key if there is none and starts munged;
#   3. writes a minimal /etc/slurm/slurm.conf for this host (real CPU and memory figures from `slurmd -C`) unless one
#      is there, and starts slurmctld and slurmd as daemons;
#   4. waits until `sinfo` shows the node idle, resuming it when it comes up down or drained.
# Idempotent and fast when the cluster already answers. With CI=true a failure fails the run; elsewhere it warns and
# the Slurm test says why it cannot run.
#
# Why this configuration: containers like this one have no systemd and no writable cgroup hierarchy, so processes are
# tracked by parent pid (proctrack/linuxproc), there is no task or accounting plugin, and the daemons run as root
# (SlurmUser=root: no state-dir ownership to get right). OverSubscribe=FORCE:4 lets up to four one-CPU jobs share a
# core: a test's workers wait on trivial trials, and a two-core machine would otherwise run only two at a time.
set -euo pipefail

CONF="${SKILL_EVAL_SLURM_CONF:-/etc/slurm/slurm.conf}"
WAIT_SEC="${SKILL_EVAL_SLURM_WAIT_SEC:-60}"
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm
PARTITION=debug
NODE="$(hostname -s)"

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "slurm: ERROR: $1" >&2
    for log in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log"; do
      [ -f "$log" ] && { echo "slurm: last lines of $log:" >&2; tail -n 20 "$log" >&2; }
    done
    exit 1
  fi
  echo "slurm: WARNING: $1 — the Slurm test will be skipped outside CI" >&2
  exit 0
}

node_state() {
  timeout 10 sinfo --noheader --nodes="$NODE" --format='%T' 2>/dev/null | head -n 1
}

ready() {
  case "$(node_state)" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
  esac
}

if command -v sinfo >/dev/null 2>&1 && ready; then
  echo "slurm: node $NODE is up ($(node_state), $(sinfo --version))"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || fail "starting munged, slurmctld and slurmd needs root"

missing=()
command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || missing+=(munge)
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install ${missing[*]} yourself"
  echo "slurm: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    fail "apt-get install ${missing[*]} failed"
fi

# munge: one key shared by every daemon and client on the (one-node) cluster.
if [ ! -s /etc/munge/munge.key ]; then
  echo "slurm: creating a munge key"
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --force >/dev/null; else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 600 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "slurm: starting munged"
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
  for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  munge -n | unmunge >/dev/null 2>&1 || fail "munged does not answer"
fi

if [ ! -f "$CONF" ]; then
  # `slurmd -C` prints this host's NodeName line (CPUs, sockets, cores, threads, RealMemory).
  node_line="$(slurmd -C | sed -n 1p)"
  case "$node_line" in NodeName=*) ;; *) fail "slurmd -C printed no NodeName line: $node_line" ;; esac
  echo "slurm: writing $CONF ($node_line)"
  mkdir -p "$(dirname "$CONF")"
  cat >"$CONF" <<EOF
# Written by skill-eval's scripts/setup/slurm.sh: a single-node test cluster (see that script for why).
ClusterName=skilleval
SlurmctldHost=$NODE
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=300
$node_line State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
fi
mkdir -p "$LOG_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd"

if ! timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; then
  echo "slurm: starting slurmctld (log: $LOG_DIR/slurmctld.log)"
  # Daemons fork into the background themselves; setsid keeps them out of this shell's session.
  setsid slurmctld </dev/null >>"$LOG_DIR/slurmctld.out" 2>&1 || fail "slurmctld did not start"
fi
if ! pgrep -x slurmd >/dev/null 2>&1; then
  echo "slurm: starting slurmd (log: $LOG_DIR/slurmd.log)"
  setsid slurmd </dev/null >>"$LOG_DIR/slurmd.out" 2>&1 || fail "slurmd did not start"
fi

for _ in $(seq 1 "$WAIT_SEC"); do
  state="$(node_state || true)"
  case "$state" in
    idle | mixed | allocated | completing)
      echo "slurm: node $NODE is up ($state, partition $PARTITION, $(sinfo --version))"
      exit 0
      ;;
    down* | drain*)
      scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
      ;;
  esac
  sleep 1
done
fail "node $NODE did not become idle within ${WAIT_SEC}s (state: ${state:-unknown}; sinfo -R says: $(sinfo -R --noheader 2>/dev/null || true))"
