#!/usr/bin/env bash
# Set up (idempotent) and run the hub on its embedded defaults: SecantusDB and redis-server are
# started for you unless HUB_MONGO_URL / HUB_REDIS_URL are set; demo data is loaded on start.
#
# The Rasa bot starts beside it unless HUB_BOT__RASA_URL is set (or HUB_NO_BOT=1): the first run
# installs Rasa in its own venv and trains the model (several minutes), in the background. Until
# the bot answers, every conversation is handed straight to a human with reason bot_unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."
HUB_SETUP_BROWSER=0 scripts/setup.sh

if [ -z "${HUB_BOT__RASA_URL:-}" ] && [ "${HUB_NO_BOT:-0}" != 1 ]; then
  rasa_port=${HUB_RASA_PORT:-5005}
  mkdir -p .hub-data/logs
  echo "run: starting the Rasa bot on 127.0.0.1:$rasa_port in the background (log: .hub-data/logs/rasa.log)"
  (scripts/rasa.sh install && scripts/rasa.sh train >/dev/null \
     && scripts/rasa.sh start "$rasa_port" .hub-data/logs/rasa.log >/dev/null) \
     >> .hub-data/logs/rasa-setup.log 2>&1 &
  trap 'scripts/rasa.sh stop "$rasa_port" >/dev/null 2>&1 || true' EXIT
  export HUB_BOT__RASA_URL="http://127.0.0.1:$rasa_port"
fi
.venv/bin/python -m hub serve --demo "$@"
