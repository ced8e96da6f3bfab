#!/usr/bin/env bash
# Oracle: superlint's mandatory workflow, in order, from the project directory.
set -euo pipefail
superlint check
superlint fix
superlint verify
