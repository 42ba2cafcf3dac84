#!/usr/bin/env bash
# The README's test command: installs what the tests need (MariaDB, Redis, ...) when missing,
# then builds and runs every test project. Ends with one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test CustomerRecords.slnx -c Release "$@" 2>&1 | tee "$log" || status=$?

# One summary line per test assembly: "Passed!  - Failed: 0, Passed: 142, Skipped: 0, ..."
read -r passed failed skipped < <(awk '
  /(Passed|Failed)!  - Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { f += $(i + 1) + 0 }
      if ($i == "Passed:")  { p += $(i + 1) + 0 }
      if ($i == "Skipped:") { s += $(i + 1) + 0 }
    }
  }
  END { print p + 0, f + 0, s + 0 }' "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the test host failed before any test could report: count that as a failure.
  failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
