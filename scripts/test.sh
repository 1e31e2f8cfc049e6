#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite: unit, integration, end-to-end in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ $# -eq 0 ]; then
  # The whole suite: Rasa's venv and the shipped model are prepared in the background while the tests
  # that need neither run (tests/conftest.py runs the Rasa tests last; rasa.sh's locks make their own
  # install/train wait for this one and then find it done).
  mkdir -p test-artifacts
  (scripts/rasa.sh install && scripts/rasa.sh train >/dev/null) >test-artifacts/rasa-prepare.log 2>&1 &
fi
export PYTHONASYNCIODEBUG=${PYTHONASYNCIODEBUG:-0}
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=40 "$@"
