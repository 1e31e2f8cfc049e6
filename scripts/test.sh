#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite: unit, integration, end-to-end in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PYTHONASYNCIODEBUG=${PYTHONASYNCIODEBUG:-0}
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=40 "$@"
