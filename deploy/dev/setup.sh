#!/usr/bin/env bash
# Installs everything Expansion Keeper needs on a fresh Debian machine that has the Swift toolchain,
# Python 3 and pip: Debian packages (apt: libraries, tools, chromium for the browser tests) and the pinned
# Python test tools in the project-local virtualenv .venv. Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# chromium: the browser the stakers' app tests drive with Playwright (Tests/Web; Playwright downloads no browser)
# postgresql-15: the throwaway servers of the PostgreSQL tests (Tests/Support/pgserver.py; run as Debian's postgres user)
apt_packages=(chromium libcurl4-openssl-dev libsecp256k1-dev libsqlite3-dev libssl-dev pkg-config postgresql-15 prometheus systemd)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

req="deploy/dev/requirements.txt"
stamp=".venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv with $req" >&2
  python3 -m venv .venv
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # Tests/Web drive Debian's chromium; never fetch a browser build
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
echo "setup: ok" >&2
