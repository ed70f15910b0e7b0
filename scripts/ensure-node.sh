#!/usr/bin/env bash
# Installs Node.js and npm with apt-get when they are missing, for
# suites/interop (openid-client and oidc-provider from the npm registry,
# pinned in testdata/interop/package-lock.json). oidc-provider needs Node.js
# ^20.19, ^22.12 or >=23: an older node is reported, not replaced.
set -euo pipefail
pkgs=()
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "installing ${pkgs[*]} with apt-get for the interop tests" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
command -v node >/dev/null 2>&1 || { echo "install Node.js: apt-get install -y nodejs" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install npm: apt-get install -y npm" >&2; exit 1; }
v=$(node --version)
IFS=. read -r major minor _ <<<"${v#v}"
if ! { [ "$major" -ge 23 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; } || { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; }; }; then
  echo "node $v is too old for the interop tests (oidc-provider needs ^20.19, ^22.12 or >=23); install a newer Node.js" >&2
  exit 1
fi
