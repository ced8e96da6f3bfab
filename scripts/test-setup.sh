#!/usr/bin/env bash
# Installs and starts what the test suite needs: Chromium (HTML report tests), a Docker engine and the offline
# base image (Docker provider tests). Idempotent. With CI=true any missing piece is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup/*.sh; do
  [ -f "$step" ] || continue
  echo "test-setup: $step" >&2
  bash "$step"
done
if [ -f scripts/build-base-image.sh ]; then
  echo "test-setup: scripts/build-base-image.sh" >&2
  bash scripts/build-base-image.sh
fi
