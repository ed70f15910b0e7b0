#!/usr/bin/env bash
# Installs what the browser test needs when it is missing: Debian's Chromium
# (the test never downloads a browser) and Node.js (which runs the
# playwright driver, fetched from the npm registry).
set -euo pipefail
browser="${IDPKIT_CHROMIUM:-/usr/bin/chromium}"
pkgs=()
[ -x "$browser" ] || pkgs+=(chromium)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
[ ${#pkgs[@]} -eq 0 ] && exit 0
echo "installing ${pkgs[*]} with apt-get for the browser test" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
[ -x "$browser" ] || { echo "install Chromium: apt-get install -y chromium (expected $browser)" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "install Node.js: apt-get install -y nodejs" >&2; exit 1; }
