#!/usr/bin/env bash
# The benchmark's one command (see bench/README.md):
#   bench/run.sh [--rows N] [--duration S] [--connections "1 16 64"] [--scenarios a,b] [--quick] [--label L]
# Installs what it needs from Debian when missing, then hands over to bench/bench.py, which builds
# Release, starts MariaDB + Redis on free loopback ports, loads the rows, runs every scenario with wrk
# and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/bin/python3 ] || need+=(python3)
/usr/bin/python3 -c 'import flask' 2>/dev/null || need+=(python3-flask)
/usr/bin/python3 -c 'import pymysql' 2>/dev/null || need+=(python3-pymysql)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "[bench] installing: ${need[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}"
fi
command -v dotnet >/dev/null || { echo "[bench] the .NET SDK (global.json) is required" >&2; exit 1; }

# The packaged MariaDB service is not used: bench.py runs its own mariadbd on a free port.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec /usr/bin/python3 bench/bench.py "$@"
