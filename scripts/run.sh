#!/usr/bin/env bash
# Set up (idempotent) and run the hub on its embedded defaults: SecantusDB and redis-server are
# started for you unless HUB_MONGO_URL / HUB_REDIS_URL are set. Demo data is loaded on start.
set -euo pipefail
cd "$(dirname "$0")/.."
HUB_SETUP_BROWSER=0 scripts/setup.sh
exec .venv/bin/python -m hub serve --demo "$@"
