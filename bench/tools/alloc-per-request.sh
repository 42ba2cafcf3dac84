#!/usr/bin/env bash
# Server-side cost of one request, for before/after comparisons on a shared (noisy) machine:
# allocated bytes per request (deterministic) and server CPU microseconds per request (steadier
# than requests/s). Needs a running .NET server (e.g. from `bench/run.sh --hold 1200`) and
# dotnet-counters (`dotnet tool install -g dotnet-counters`).
#   bench/tools/alloc-per-request.sh PID BASE_URL KIND PATH IDS CONNECTIONS
#   e.g. bench/tools/alloc-per-request.sh 1234 http://127.0.0.1:5001 get /customers/ 1-1000 16
# KIND, PATH and IDS mean what they mean for bench/lua/bench.lua (BENCH_KIND, BENCH_PATH, BENCH_IDS).
# Run old and new builds alternately, several times each; compare B/req first, CPU us/req second.
set -euo pipefail
export PATH="$PATH:$HOME/.dotnet/tools"
pid=$1 base=$2 kind=$3 path=$4 ids=$5 conns=$6
lua="$(cd "$(dirname "$0")/.." && pwd)/lua/bench.lua"
url=$base
[ "$kind" = fixed ] && url=$base$path
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load() { BENCH_KIND=$kind BENCH_PATH=$path BENCH_IDS=$ids BENCH_TAG=$RANDOM$RANDOM wrk -t2 -c"$conns" -d"$1" -s "$lua" "$url"; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

load 3s >/dev/null # warm-up
dotnet-counters collect -p "$pid" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' \
  --duration 00:00:00:14 --format csv -o "$tmp/counters.csv" >/dev/null 2>&1 &
counters=$!
sleep 1.5
t0=$(ticks)
load 10s >"$tmp/wrk.txt"
t1=$(ticks)
wait "$counters"
/usr/bin/python3 - "$tmp" "$path" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import csv, json, sys
tmp, path, t0, t1, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
# Each row is the bytes allocated during one second; the window covers the whole measured run.
allocated = sum(float(r[4]) for r in csv.reader(open(f"{tmp}/counters.csv")) if len(r) >= 5 and "total_allocated" in r[2])
d = json.loads(next(l for l in open(f"{tmp}/wrk.txt") if l.startswith("BENCHJSON"))[len("BENCHJSON "):])
n = d["requests"]
print(f"{path}: {n / (d['duration_us'] / 1e6):7.0f} req/s  {(t1 - t0) / hz / n * 1e6:6.1f} us CPU/req  "
      f"{allocated / n:6.0f} B/req  p99 {d['latency_us']['p99'] / 1000:.1f} ms  errors {sum(d['errors'].values())}")
PY
