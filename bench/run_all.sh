#!/usr/bin/env bash
# Run every benchmark with the project's venv; results land in bench/results/ (git-ignored).
# Usage: bench/run_all.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
quick=()
if [[ "${1:-}" == "--quick" ]]; then quick=(--quick); fi
echo "== ACD assignment =="
"$PY" bench/assignment.py "${quick[@]}"
echo
echo "== Web-chat round trip =="
"$PY" bench/webchat_roundtrip.py "${quick[@]}"
echo
echo "== SMS round trip through Kannel =="
"$PY" bench/sms_roundtrip.py "${quick[@]}"
