#!/usr/bin/env bash
# Asterisk 22 (Debian sid packages) in a debootstrap chroot, for the hub's voice channel and its tests.
# Asterisk is in neither bookworm nor trixie, and sid's build needs a newer libc than the host's: hence
# the chroot (docs/decisions/0024-asterisk-in-a-chroot-instances-per-directory.md). Loopback only.
#
#   scripts/asterisk.sh setup
#       host packages debootstrap and sip-tester (sipp) when missing, then the chroot at
#       ${HUB_ASTERISK_ROOT:-/var/lib/hub/astroot} with asterisk, asterisk-modules,
#       asterisk-core-sounds-en-wav, asterisk-moh-opsound-wav; prints the version. About 2.5 min the
#       first time, well under a second once done. HUB_ASTERISK_MIRROR overrides debootstrap's mirror.
#   scripts/asterisk.sh start [ARGS]     start the instance "run" (python -m voice.pbx start --name run ARGS;
#                                        --help lists the ports, agents, callers and AGI address)
#   scripts/asterisk.sh stop [NAME]      stop an instance (default "run") by PID
#   scripts/asterisk.sh status [NAME]    running or not (exit 3 when stopped)
#   scripts/asterisk.sh cli NAME "cmd"   one CLI command on a running instance (asterisk -rx)
#
# Every instance has its own tree in the chroot, /srv/hub/NAME (etc, run, spool, lib, log, recordings).
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=${HUB_ASTERISK_ROOT:-/var/lib/hub/astroot}
STATE=${HUB_ASTERISK_STATE:-$(dirname "$ROOT")/asterisk-state}   # setup logs
PACKAGES=(asterisk asterisk-modules asterisk-core-sounds-en-wav asterisk-moh-opsound-wav)
READY=$ROOT/srv/hub/.setup-done
APT=(-o DPkg::Lock::Timeout=300)   # another apt may hold the lock for a while

log() { printf 'asterisk.sh: %s\n' "$*" >&2; }
die() { printf 'asterisk.sh: error: %s\n' "$*" >&2; exit 1; }

version() { chroot "$ROOT" dpkg-query -W -f '${Version}' asterisk; }

host_packages() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v sipp >/dev/null || missing+=(sip-tester)   # Debian's name for sipp (with pcap play)
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} on the host"
  apt-get "${APT[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

unmount_under() {  # DIR: every mount below DIR, deepest first (debootstrap may leave proc/sys after a failure)
  local target
  for target in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$target" 2>/dev/null || umount -l "$target"
  done
}

bootstrap() {
  [ -x "$ROOT/usr/bin/apt-get" ] && return
  local partial=$ROOT.partial t0=$SECONDS
  unmount_under "$partial"
  rm -rf --one-file-system "$partial"
  mkdir -p "$(dirname "$ROOT")" "$STATE"
  log "debootstrap --variant=minbase sid (about 1-2 min; log $STATE/debootstrap.log)"
  # shellcheck disable=SC2086  # the mirror is optional
  debootstrap --variant=minbase sid "$partial" ${HUB_ASTERISK_MIRROR:-} > "$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log" >&2; unmount_under "$partial"; die "debootstrap failed"; }
  unmount_under "$partial"
  mv "$partial" "$ROOT"
  log "debootstrap done in $((SECONDS - t0)) s"
}

configure_chroot() {
  # sid's Release may already be past its Valid-Until on the mirror: apt refuses it, debootstrap does not.
  echo 'Acquire::Check-Valid-Until "false";' > "$ROOT/etc/apt/apt.conf.d/99no-valid-until"
  # No service may start from a postinst (there is no init in the chroot anyway).
  printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
  chmod +x "$ROOT/usr/sbin/policy-rc.d"
  # minbase has no /etc/hosts: pjlib would ask the network's DNS for this machine's name.
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$(hostname)" \
    > "$ROOT/etc/hosts"
}

packages_installed() {
  local p
  for p in "${PACKAGES[@]}"; do
    chroot "$ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

install_asterisk() {
  packages_installed && return
  local t0=$SECONDS mounted=0
  mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; mounted=1; }
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"   # apt needs the mirror; Asterisk gets loopback below
  log "apt-get install ${PACKAGES[*]} in the chroot (about 1 min; log $STATE/install.log)"
  local rc=0
  { chroot "$ROOT" apt-get "${APT[@]}" update -qq \
      && DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get "${APT[@]}" install -y -qq \
           --no-install-recommends "${PACKAGES[@]}" \
      && chroot "$ROOT" apt-get clean; } > "$STATE/install.log" 2>&1 || rc=$?
  echo 'nameserver 127.0.0.1' > "$ROOT/etc/resolv.conf"
  [ $mounted = 1 ] && { umount "$ROOT/proc" || umount -l "$ROOT/proc"; }
  [ $rc = 0 ] || { tail -30 "$STATE/install.log" >&2; die "apt-get install in the chroot failed ($rc)"; }
  log "install done in $((SECONDS - t0)) s"
}

cmd_setup() {
  if [ -f "$READY" ] && command -v sipp >/dev/null && [ -x "$ROOT/usr/sbin/asterisk" ]; then
    echo "asterisk: ready, Asterisk $(version) in $ROOT"; return
  fi
  [ "$(id -u)" = 0 ] || exec sudo HUB_ASTERISK_ROOT="$ROOT" HUB_ASTERISK_STATE="$STATE" "$0" setup  # debootstrap, chroot
  mkdir -p "$STATE"
  exec 9>"$STATE/setup.lock"
  flock 9   # two setups at once: the second waits, then finds everything done
  host_packages
  bootstrap
  configure_chroot
  install_asterisk
  chroot "$ROOT" /usr/sbin/asterisk -V >/dev/null || die "asterisk does not run in $ROOT"
  mkdir -p "$ROOT/srv/hub"
  version > "$READY"
  echo "asterisk: ready, Asterisk $(version) in $ROOT ($(du -shx "$ROOT" | cut -f1))"
}

pbx() {
  [ -x .venv/bin/python ] || die "no .venv: run scripts/setup.sh"
  HUB_ASTERISK_ROOT=$ROOT exec .venv/bin/python -m voice.pbx "$@"
}

case ${1:-} in
  setup) cmd_setup ;;
  start) shift; pbx start --name run "$@" ;;
  stop) pbx stop --name "${2:-run}" ;;
  status) pbx status --name "${2:-run}" ;;
  cli) [ $# -ge 3 ] || die 'usage: scripts/asterisk.sh cli NAME "command"'; pbx cli --name "$2" "$3" ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
