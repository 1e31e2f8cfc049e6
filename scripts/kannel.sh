#!/usr/bin/env bash
# Kannel 1.4.5 (Debian `kannel` + `kannel-extras`) as the hub's SMS gateway: bearerbox + smsbox with a
# `smsc = fake` connection, loopback only, our own config (the package's /etc/kannel and its init
# script are never used). Recipe and pitfalls: docs/operations.md "Operating SMS".
#
#   scripts/kannel.sh install
#       apt-get install kannel kannel-extras (skipped when present), guarded so the package's
#       postinst cannot start the stock service (which would bind 13000/13001/13013 and WAP on all
#       interfaces); stops it if it did start anyway.
#   scripts/kannel.sh start DIR ADMIN_PORT BOX_PORT SMSC_PORT SENDSMS_PORT MO_URL
#       write DIR/kannel.conf, start bearerbox then smsbox, wait until smsbox is attached; print PIDs.
#       MO_URL is the hub's MO endpoint with its secret (http://127.0.0.1:8080/channels/sms/mo?secret=S);
#       the Kannel escapes (from, to, text, coding, charset, id, ...) are appended to it.
#   scripts/kannel.sh start DIR
#       start again with the existing DIR/kannel.conf (the store file in DIR is kept: queued MT
#       and MO survive the restart).
#   scripts/kannel.sh stop DIR     stop the bearerbox/smsbox started for DIR (by PID; TERM, then KILL)
#   scripts/kannel.sh status DIR   print Kannel's status page
#
# Environment for `start` with ports: KANNEL_USER / KANNEL_PASSWORD (sendsms account, default
# hub / hub-sendsms), KANNEL_ADMIN_PASSWORD (default: a random one, written to DIR/admin-password),
# KANNEL_MAX_MESSAGES (most parts of one MT, default 10), KANNEL_LOG_LEVEL (default 1 = info),
# KANNEL_HTTP_RETRIES (smsbox's retries of an MO or DLR callback, 2 s apart, default 5).
set -euo pipefail

log() { echo "kannel.sh: $*" >&2; }
die() { echo "kannel.sh: error: $*" >&2; exit 1; }

BEARERBOX=/usr/sbin/bearerbox
SMSBOX=/usr/sbin/smsbox
FAKESMSC=/usr/lib/kannel/test/fakesmsc

cmd_install() {
  if [ -x "$BEARERBOX" ] && [ -x "$SMSBOX" ] && [ -x "$FAKESMSC" ]; then log "install: already done"; return; fi
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  mkdir -p /tmp/kannel-install 2>/dev/null || true
  exec 9>/tmp/kannel-install/lock
  flock 9   # two test sessions installing at once: the second waits, then finds it done
  if [ -x "$BEARERBOX" ] && [ -x "$SMSBOX" ] && [ -x "$FAKESMSC" ]; then log "install: already done"; return; fi
  local guard=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # invoke-rc.d asks this script before starting a service; 101 = "not allowed".
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    guard=1
  fi
  local t0=$SECONDS rc=0
  log "install: apt-get install kannel kannel-extras"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq kannel kannel-extras \
      >/dev/null; } || rc=$?
  [ $guard = 1 ] && $sudo rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || die "install: apt-get failed ($rc)"
  if [ -x /etc/init.d/kannel ] && pgrep -u kannel -x bearerbox >/dev/null 2>&1; then
    log "install: the stock Kannel service started; stopping it"
    $sudo /etc/init.d/kannel stop >/dev/null 2>&1 || true
  fi
  log "install: done in $((SECONDS - t0)) s"
}

wait_port() {  # PORT PID NAME: until PORT accepts connections; fails when PID died
  local i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

conf_value() { sed -n "s/^$2 *= *\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$1" | head -n1; }

write_conf() {  # DIR ADMIN BOX SMSC SENDSMS MO_URL
  local dir=$1 admin=$2 box=$3 smsc=$4 sendsms=$5 mo=$6
  local sep='?'; [[ $mo == *\?* ]] && sep='&'
  local admin_password=${KANNEL_ADMIN_PASSWORD:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  local user=${KANNEL_USER:-hub} password=${KANNEL_PASSWORD:-hub-sendsms}
  [[ $mo$user$password != *\"* ]] || die "start: quotes are not allowed in MO_URL or the credentials"
  umask 077
  echo "$admin_password" > "$dir/admin-password"
  cat > "$dir/kannel.conf" <<EOF
# Written by scripts/kannel.sh: bearerbox + smsbox + fake SMSC on loopback, for the hub.
group = core
admin-port = $admin
admin-interface = 127.0.0.1
admin-password = "$admin_password"
status-password = "$admin_password"
admin-allow-ip = "127.0.0.1"
smsbox-port = $box
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$dir/bearerbox.log"
log-level = ${KANNEL_LOG_LEVEL:-1}
access-log = "$dir/access.log"
# MT waiting for the SMSC and MO waiting for smsbox survive a restart in this file.
store-type = file
store-location = "$dir/kannel.store"
store-dump-freq = 2
dlr-storage = internal
sms-resend-freq = 5
sms-resend-retry = -1

group = smsc
smsc = fake
smsc-id = fake1
port = $smsc
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box
sendsms-port = $sendsms
sendsms-interface = 127.0.0.1
log-file = "$dir/smsbox.log"
log-level = ${KANNEL_LOG_LEVEL:-1}
access-log = "$dir/smsbox-access.log"
# A UCS-2 MO reaches the hub as UTF-8 (coding=0, charset=UTF-8).
mo-recode = true
# MO and DLR callbacks to a hub that does not answer 200/202: 5 more tries (KANNEL_HTTP_RETRIES),
# 2 s apart, held in smsbox memory only.
http-request-retry = ${KANNEL_HTTP_RETRIES:-5}
http-queue-delay = 2

group = sendsms-user
username = "$user"
password = "$password"
max-messages = ${KANNEL_MAX_MESSAGES:-10}
concatenation = true

# One catch-all service: routing happens in the hub. max-messages = 0: the hub answers
# asynchronously through sendsms, the HTTP reply body is never sent as an SMS.
group = sms-service
keyword = default
catch-all = true
max-messages = 0
omit-empty = true
get-url = "$mo${sep}from=%p&to=%P&text=%b&coding=%c&charset=%C&id=%I&ts=%T&smsc=%i&udh=%u"
EOF
}

start_box() {  # NAME BINARY DIR: start one box in its own session, record its PID
  local name=$1 exe=$2 dir=$3
  # setsid is exec'd by a non-leader child: it does not fork, so $! is the box itself.
  (exec setsid "$exe" -v "${KANNEL_LOG_LEVEL:-1}" "$dir/kannel.conf" >>"$dir/$name.out" 2>&1 </dev/null) &
  echo $! > "$dir/$name.pid"
}

cmd_start() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: scripts/kannel.sh start DIR [ADMIN_PORT BOX_PORT SMSC_PORT SENDSMS_PORT MO_URL]"
  [ -x "$BEARERBOX" ] || die "Kannel is not installed: run 'scripts/kannel.sh install'"
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  if [ $# -ge 6 ]; then
    write_conf "$dir" "$2" "$3" "$4" "$5" "$6"
  elif [ $# -ne 1 ] || [ ! -f "$dir/kannel.conf" ]; then
    die "start: give the ports and MO_URL, or a DIR with a kannel.conf"
  fi
  local pid
  for pid in bearerbox smsbox; do
    if [ -f "$dir/$pid.pid" ] && kill -0 "$(cat "$dir/$pid.pid")" 2>/dev/null; then
      die "start: $pid already running for $dir (pid $(cat "$dir/$pid.pid"))"
    fi
  done
  local admin box sendsms password
  admin=$(conf_value "$dir/kannel.conf" admin-port); box=$(conf_value "$dir/kannel.conf" smsbox-port)
  sendsms=$(conf_value "$dir/kannel.conf" sendsms-port); password=$(cat "$dir/admin-password")
  start_box bearerbox "$BEARERBOX" "$dir"
  wait_port "$box" "$(cat "$dir/bearerbox.pid")" && wait_port "$admin" "$(cat "$dir/bearerbox.pid")" \
    || { tail -n 20 "$dir/bearerbox.log" >&2 || true; cmd_stop "$dir"; die "start: bearerbox did not come up"; }
  start_box smsbox "$SMSBOX" "$dir"
  wait_port "$sendsms" "$(cat "$dir/smsbox.pid")" \
    || { tail -n 20 "$dir/smsbox.log" >&2 || true; cmd_stop "$dir"; die "start: smsbox did not come up"; }
  local i
  for i in $(seq 1 100); do
    status_page "$admin" "$password" | grep -q "smsbox:" && break
    sleep 0.05
  done
  echo "bearerbox=$(cat "$dir/bearerbox.pid") smsbox=$(cat "$dir/smsbox.pid")"
}

status_page() {  # ADMIN_PORT PASSWORD
  exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET /status.txt?password=%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&4
  cat <&4; exec 4<&-
}

# Running, and not a zombie: the boxes run in their own session, and the container's PID 1 may
# be slow to reap them once they exited.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

cmd_stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: scripts/kannel.sh stop DIR"
  local name pid i
  for name in smsbox bearerbox; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$dir/$name.pid"
  done
  return 0
}

cmd_status() {
  local dir=${1:-}
  [ -f "$dir/kannel.conf" ] || die "usage: scripts/kannel.sh status DIR (with a kannel.conf)"
  status_page "$(conf_value "$dir/kannel.conf" admin-port)" "$(cat "$dir/admin-password")"
}

case ${1:-} in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
