#!/usr/bin/env bash
# Set up (idempotent) and run the hub on its embedded defaults: SecantusDB and redis-server are
# started for you unless HUB_MONGO_URL / HUB_REDIS_URL are set; demo data is loaded on start.
#
# The Rasa bot starts beside it unless HUB_BOT__RASA_URL is set (or HUB_NO_BOT=1): the first run
# installs Rasa in its own venv and trains the model (several minutes), in the background. Until
# the bot answers, every conversation is handed straight to a human with reason bot_unavailable.
#
# HUB_WITH_VOICE=1 adds phone calls: the hub starts its own Asterisk (see below).
#
# Stop it with Ctrl-C or `kill <pid of this script>` (SIGINT or SIGTERM): the hub stops its embedded
# SecantusDB and redis-server, and the Rasa set-up and server started here are stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."
HUB_SETUP_BROWSER=0 scripts/setup.sh

hub_pid=""
rasa_pid=""
rasa_port=""

stop_all() {
  trap - INT TERM
  if [ -n "$hub_pid" ]; then
    kill -TERM "$hub_pid" 2>/dev/null || true
  fi
  if [ -n "$rasa_pid" ]; then
    # The set-up runs in its own session (setsid): stop the whole of it (pip, rasa train, ...).
    kill -TERM -- "-$rasa_pid" 2>/dev/null || true
  fi
  if [ -n "$rasa_port" ]; then
    scripts/rasa.sh stop "$rasa_port" >/dev/null 2>&1 || true
  fi
}
on_signal() {
  stop_all
  [ -z "$hub_pid" ] || wait "$hub_pid" 2>/dev/null || true
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap stop_all EXIT

if [ -z "${HUB_BOT__RASA_URL:-}" ] && [ "${HUB_NO_BOT:-0}" != 1 ]; then
  rasa_port=${HUB_RASA_PORT:-5005}
  logs=${HUB_EMBEDDED__DATA_DIR:-.hub-data}/logs
  mkdir -p "$logs"
  echo "run: starting the Rasa bot on 127.0.0.1:$rasa_port in the background (log: $logs/rasa.log)"
  setsid bash -c 'scripts/rasa.sh install && scripts/rasa.sh train >/dev/null \
                  && scripts/rasa.sh start "$1" "$2" >/dev/null' rasa-setup "$rasa_port" "$logs/rasa.log" \
    >> "$logs/rasa-setup.log" 2>&1 < /dev/null &
  rasa_pid=$!
  export HUB_BOT__RASA_URL="http://127.0.0.1:$rasa_port"
fi

# Phone calls: HUB_WITH_VOICE=1 builds Asterisk's chroot once (scripts/asterisk.sh setup, about 2.5 min the first
# time) and the hub starts its own Asterisk on loopback, with a SIP phone per agent (docs/operations.md).
if [ "${HUB_WITH_VOICE:-0}" = 1 ] && [ -z "${HUB_VOICE__AMI_PORT:-}" ]; then
  scripts/asterisk.sh setup
  export HUB_VOICE__EMBEDDED=true
fi

# In the background so that this script's traps run at once on a signal (bash runs them only after
# a foreground command has ended); the hub itself handles SIGINT and SIGTERM by stopping cleanly.
.venv/bin/python -m hub serve --demo "$@" &
hub_pid=$!
status=0
wait "$hub_pid" || status=$?
hub_pid=""
exit "$status"
