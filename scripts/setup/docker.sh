#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, for the Docker provider and its tests (tests/environments/docker*.test.ts).
#   1. installs Debian's docker.io (dockerd, containerd, runc) and debootstrap (for scripts/build-base-image.sh) if missing;
#   2. starts `dockerd --iptables=false` in the background when no engine answers (log: $SKILL_EVAL_DOCKERD_LOG);
#   3. waits until `docker info` answers.
# Idempotent: an engine that already answers is left alone. Outside CI a failure only warns (the Docker tests then
# skip loudly); with CI=true it fails, so CI never skips silently.
#
# Why --iptables=false: the sandboxes this runs in have no netfilter to program. Containers on the default bridge
# then have no egress at all; tasks that need the network use `network_mode = "host"` (docs/docker.md).
set -euo pipefail

LOG="${SKILL_EVAL_DOCKERD_LOG:-/var/log/skill-eval-dockerd.log}"
WAIT_SEC="${SKILL_EVAL_DOCKERD_WAIT_SEC:-60}"

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "docker: ERROR: $1" >&2
    [ -f "$LOG" ] && { echo "docker: last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; }
    exit 1
  fi
  echo "docker: WARNING: $1 — the Docker provider tests will be skipped outside CI" >&2
  exit 0
}

engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  if engine_answers && [ "${missing[*]}" = "docker.io" ]; then
    : # a remote or rootless engine answers; dockerd itself is not needed here
  else
    command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install ${missing[*]} yourself"
    if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then fail "not root and no sudo: cannot apt-get install ${missing[*]}"; fi
    echo "docker: installing ${missing[*]} (apt-get update first)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq || fail "apt-get update failed"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
  fi
fi

if engine_answers; then
  echo "docker: engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

command -v dockerd >/dev/null 2>&1 || fail "dockerd not found after installing docker.io"
if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then fail "no engine answers and starting dockerd needs root"; fi

# A dockerd that died uncleanly leaves its pid file behind, and a new one refuses to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  $SUDO rm -f /var/run/docker.pid
fi

echo "docker: starting dockerd --iptables=false (log: $LOG)"
$SUDO mkdir -p "$(dirname "$LOG")"
# setsid + nohup: the engine must outlive this script and the shell that ran it.
$SUDO setsid nohup dockerd --iptables=false >>"$LOG" 2>&1 </dev/null &

for _ in $(seq 1 "$WAIT_SEC"); do
  if engine_answers; then
    echo "docker: engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'version unknown'), storage driver $(docker info --format '{{.Driver}}' 2>/dev/null || echo unknown))"
    exit 0
  fi
  sleep 1
done
fail "dockerd did not answer within ${WAIT_SEC}s"
