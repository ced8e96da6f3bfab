#!/usr/bin/env bash
# Lints every shell program in the repository with shellcheck (Debian's package; installed here when missing and
# we are root). The demo task's environment/app is left out: its scripts are the lint errors the task asks an
# agent to fix.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "shellcheck: installing Debian's package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq shellcheck >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }
  else
    echo "shellcheck: not installed; run 'apt-get install shellcheck' (as root) and try again" >&2
    exit 1
  fi
fi
mapfile -t scripts < <(git ls-files --cached --others --exclude-standard '*.sh' | grep -v '^tasks/superlint_demo/environment/')
shellcheck --external-sources "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
