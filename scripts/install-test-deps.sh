#!/usr/bin/env bash
# Installs the servers that the integration tests start as child processes of the test run
# (tests/CustomerRecords.Tests/Infrastructure): MariaDB and Redis from Debian's packages.
# Safe to run repeatedly: it installs only what is missing. Run as root or via sudo.
set -euo pipefail

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

if [ "${#packages[@]}" -eq 0 ]; then
  echo "install-test-deps: mariadbd and redis-server are already installed."
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
  esac
done

have mariadbd mysqld && have mariadb-install-db mysql_install_db && have redis-server
echo "install-test-deps: done."
