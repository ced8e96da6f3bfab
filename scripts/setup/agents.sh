#!/usr/bin/env bash
# Installs the pinned agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode) into skill-eval's cache before the
# tests run, so no test's timeout pays for the ~1 GB first download. Idempotent: a cached version is reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
node --import tsx src/cli/main.ts agents install all
