#!/usr/bin/env bash
# Installs tmux for the live-progress test (tests/jobs/progress-tty.test.ts drives the CLI in a real terminal).
# Idempotent. With CI=true a failure fails the run; elsewhere it warns and the test says why it cannot run.
set -euo pipefail
if command -v tmux >/dev/null 2>&1; then
  echo "tmux: already installed ($(tmux -V))"
  exit 0
fi
fail() {
  if [ "${CI:-}" = "true" ]; then echo "tmux: ERROR: $1" >&2; exit 1; fi
  echo "tmux: WARNING: $1" >&2
  exit 0
}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else fail "not root and no sudo: cannot apt-get install tmux"; fi
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install tmux"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || fail "apt-get update failed"
$SUDO apt-get install -y -qq tmux >/dev/null || fail "apt-get install tmux failed"
echo "tmux: installed ($(tmux -V))"
