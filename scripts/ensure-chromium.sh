#!/usr/bin/env bash
# Installs Debian's Chromium when the browser test's browser is missing.
set -euo pipefail
browser="${IDPKIT_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then exit 0; fi
echo "Chromium is missing at $browser; installing Debian's chromium with apt-get" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x "$browser" ] || { echo "install Chromium: apt-get install -y chromium (expected $browser)" >&2; exit 1; }
