#!/usr/bin/env bash
# Idempotent install of the e-mail test peers: Dovecot (IMAP + LMTP) and Postfix, as binaries only.
# The tests (tests/mailserver.py) run both with their own config directories on free loopback
# ports; the stock services are never started (see docs/decisions/0012-email-postfix-dovecot-lmtp.md).
# Fast when already installed: one dpkg-query.
set -euo pipefail

packages=(dovecot-imapd dovecot-lmtpd postfix)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "mail: ready"; exit 0; }

echo "mail: installing ${missing[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
# The packages' postinst would start stock dovecot (143/993) and postfix (25) through invoke-rc.d.
# policy-rc.d exit 101 forbids that; we add it only when absent and remove only what we added.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  guard=/usr/sbin/policy-rc.d
fi
trap '[ -n "$guard" ] && $SUDO rm -f "$guard"' EXIT
# "No configuration": postfix installs without writing a main.cf for a real mail domain.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Belt and braces on machines where the guard did not hold (systemd starts units directly).
for service in dovecot postfix; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
done
echo "mail: ready"
