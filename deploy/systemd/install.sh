#!/usr/bin/env bash
# Installs Expansion Keeper under systemd on this host (run as root from a checkout, after
# `swift build -c release --product expansion-keeper`). Idempotent: re-running upgrades the binary and
# the unit, and never overwrites an existing config, password or keystore.
#   deploy/systemd/install.sh [--binary PATH] [--no-start]
# Steps it performs are listed in deploy/docs/operator-guide.md ("What install.sh does").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="$root/.build/release/expansion-keeper"
start=1
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --no-start) start=0; shift ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ -x "$binary" ] || { echo "install.sh: $binary not found; build it: swift build -c release --product expansion-keeper" >&2; exit 1; }

install -m 0755 "$binary" /usr/local/bin/expansion-keeper
install -D -m 0644 "$root/deploy/systemd/expansion-keeper.sysusers.conf" /usr/lib/sysusers.d/expansion-keeper.conf
install -D -m 0644 "$root/deploy/systemd/expansion-keeper.tmpfiles.conf" /usr/lib/tmpfiles.d/expansion-keeper.conf
systemd-sysusers /usr/lib/sysusers.d/expansion-keeper.conf
systemd-tmpfiles --create /usr/lib/tmpfiles.d/expansion-keeper.conf
# The guides, in the repository's layout so their links work; the alerts' runbook_urls point at
# /usr/local/share/doc/expansion-keeper/deploy/docs/runbook.md.
doc=/usr/local/share/doc/expansion-keeper
rm -f "$doc/deploy-README.md"   # where deploy/README.md was installed before the guides moved to deploy/docs/
for f in README.md deploy/README.md deploy/docs/*.md deploy/contracts/README.md ABI/README.md; do
  install -D -m 0644 "$root/$f" "$doc/$f"
done
install -d -m 0750 -o root -g expansion-keeper /etc/expansion-keeper /etc/expansion-keeper/abi
install -m 0640 -o root -g expansion-keeper "$root"/ABI/*.json /etc/expansion-keeper/abi/
if [ ! -e /etc/expansion-keeper/config.toml ]; then
  sed -e 's|^staking_abi = .*|staking_abi = "abi/MockVeniceStaking.json"   # TEST DOUBLE: verify the live events, then abi/VeniceStaking.json|' \
      "$root/deploy/config/expansion-keeper.example.toml" > /etc/expansion-keeper/config.toml
  chown root:expansion-keeper /etc/expansion-keeper/config.toml
  chmod 0640 /etc/expansion-keeper/config.toml
  echo "install.sh: wrote /etc/expansion-keeper/config.toml from the example: edit it before starting" >&2
  start=0
fi
if [ ! -e /etc/expansion-keeper/keeper-password ]; then
  echo "install.sh: create /etc/expansion-keeper/keeper-password (root:root 0600) with the keystore password" >&2
  start=0
fi
install -D -m 0644 "$root/deploy/systemd/expansion-keeper.service" /etc/systemd/system/expansion-keeper.service
systemd-analyze verify /etc/systemd/system/expansion-keeper.service
systemctl daemon-reload
if ((start)); then
  systemctl enable --now expansion-keeper.service
  systemctl --no-pager status expansion-keeper.service || true
else
  echo "install.sh: installed; start with: systemctl enable --now expansion-keeper" >&2
fi
