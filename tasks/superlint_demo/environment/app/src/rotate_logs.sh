#!/usr/bin/env bash
# Compresses service logs older than a day.
set -euo pipefail

LOG_DIR="${LOG_DIR:-logs}"

for f in "$LOG_DIR"/*.log; do
    [ -e "$f" ] || continue
    if [ "$(date -r "$f" +%s)" -lt "$(($(date +%s) - 86400))" ]; then
        gzip -9 "$f"
    fi
done
