#!/usr/bin/env bash
# Installs Debian's chromium for the HTML-report test (tests/cli/analyze-html.test.ts). Idempotent.
# Outside CI a failure only warns (the test then skips loudly); with CI=true it fails, so CI never skips silently.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium: already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "chromium: ERROR: $1" >&2
    exit 1
  fi
  echo "chromium: WARNING: $1 — the HTML report test will be skipped outside CI" >&2
  exit 0
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else fail "not root and no sudo: cannot apt-get install chromium"; fi
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install chromium so that $CHROMIUM exists"

echo "chromium: installing Debian package 'chromium' (apt-get update first)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || fail "apt-get update failed"
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null || fail "apt-get install chromium failed"
[ -x "$CHROMIUM" ] || fail "chromium installed but $CHROMIUM is missing"
echo "chromium: installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
