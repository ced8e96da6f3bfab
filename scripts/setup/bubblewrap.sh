#!/usr/bin/env bash
# Installs bubblewrap, the local provider's sandbox (tests/environments/local-sandbox.test.ts needs it; without it the
# local provider falls back to running unsandboxed). Idempotent. With CI=true a failure fails the run; elsewhere it
# warns and the local provider says why it runs without a sandbox.
set -euo pipefail
probe() {
  bwrap --ro-bind / / --unshare-pid --unshare-net --die-with-parent --cap-drop ALL --proc /proc --dev /dev true
}
fail() {
  if [ "${CI:-}" = "true" ]; then echo "bubblewrap: ERROR: $1" >&2; exit 1; fi
  echo "bubblewrap: WARNING: $1" >&2
  exit 0
}
if command -v bwrap >/dev/null 2>&1; then
  probe || fail "bwrap is installed but cannot create namespaces here (unprivileged user namespaces disabled?)"
  echo "bubblewrap: already installed ($(bwrap --version))"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else fail "not root and no sudo: cannot apt-get install bubblewrap"; fi
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install bubblewrap"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || fail "apt-get update failed"
$SUDO apt-get install -y -qq bubblewrap >/dev/null || fail "apt-get install bubblewrap failed"
probe || fail "bwrap was installed but cannot create namespaces here (unprivileged user namespaces disabled?)"
echo "bubblewrap: installed ($(bwrap --version))"
