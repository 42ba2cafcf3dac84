"""Load runs: one wrk invocation and its parsed result, one measured point, rounds combined."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .common import LUA, clean_env, log
from .sampling import Sampler
from .servers import MariaDB, Redis, Target, http_status


def run_wrk(url: str, kind: str, path: str, ids: tuple[int, int] | None, connections: int, seconds: float,
            tag: str, raw_log: Path | None = None, api_key: str = "") -> dict:
    env = clean_env()
    if api_key:
        env["BENCH_API_KEY"] = api_key
    env.update({"BENCH_KIND": kind, "BENCH_PATH": path, "BENCH_TAG": tag, "BENCH_WRITES": "10",
                "BENCH_IDS": f"{ids[0]}-{ids[1]}" if ids else "1-1"})
    threads = min(2, connections)
    target = url + (path if kind == "fixed" else "")
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, int(round(seconds)))}s",
            "--timeout", "2s", "-s", str(LUA), target]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if raw_log is not None:
        with open(raw_log, "a") as f:
            f.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
    for line in result.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line[len("BENCHJSON "):])
            data["rps"] = round(data["requests"] / (data["duration_us"] / 1e6), 1) if data["duration_us"] else 0.0
            return data
    raise RuntimeError(f"wrk gave no result: {result.stdout[-500:]} {result.stderr[-500:]}")


def combine_rounds(points: list[dict]) -> dict:
    """The round with the most requests/s stands for the point (the one least disturbed by the rest
    of the machine); errors are summed and RSS is the highest over all rounds, so neither hides."""
    best = dict(max(points, key=lambda p: p["rps"]))
    best["errors"] = {k: sum(p["errors"][k] for p in points) for k in best["errors"]}
    best["requests_all_rounds"] = sum(p["requests"] for p in points)
    best["duration_us_all_rounds"] = sum(p["duration_us"] for p in points)
    best["rss_mb"] = max(p["rss_mb"] for p in points)
    best["peak_rss_mb"] = max(p["peak_rss_mb"] for p in points)
    best["rounds"] = [{"rps": p["rps"], "p50_us": p["latency_us"]["p50"], "p99_us": p["latency_us"]["p99"],
                       "others_cpu_pct": p["others_cpu_pct"], "server_cpu_us_per_req": p["server_cpu_us_per_req"],
                       "db_cpu_pct": p["cpu_pct"]["db"], "errors": p["errors"]["status"] + sum(
                           p["errors"][k] for k in ("connect", "read", "write", "timeout"))} for p in points]
    return best


def measure(target: Target, db: MariaDB, redis: Redis | None, name: str, kind: str, path: str, ids, connections: int, args,
            raw: Path, warm: bool) -> dict:
    tag = f"{name.replace('_', '')}{connections}x{int(time.time() * 1000) % 10_000_000}"
    probe = path if kind in ("fixed",) else (path + str(ids[0]) if kind in ("get", "mix") else None)
    if probe is not None:
        status = http_status(target.base + probe, headers={"X-Api-Key": target.api_key} if target.api_key else None)
        if status != 200:
            log(f"warning: {name}: GET {probe} answered {status} before the run")
    if warm and args.warmup > 0:
        run_wrk(target.base, kind, path, ids, connections, args.warmup, tag + "w", raw / f"{name}.wrk.log",
                target.api_key)
    pids = {"server": target.proc.pid, "db": db.proc.pid}
    if redis is not None:
        pids["redis"] = redis.proc.pid
    counters0 = db.status()
    with Sampler(pids) as sampler:
        point = run_wrk(target.base, kind, path, ids, connections, args.duration, tag, raw / f"{name}.wrk.log",
                        target.api_key)
    counters1 = db.status()
    # What each response cost the database: statements, commits, durable log flushes, lock waits.
    # (Approximate: counted over a window a little wider than wrk's, including the other idle programs.)
    point["db_per_req"] = {k: round((counters1.get(k, 0) - counters0.get(k, 0)) / point["requests"], 2)
                           for k in counters0} if point["requests"] else {}
    point["connections"] = connections
    point["cpu_pct"] = sampler.cpu_pct
    point["rss_mb"] = round(sampler.max_rss["server"] / 1024, 1)
    point["peak_rss_mb"] = round(sampler.hwm["server"] / 1024, 1)
    point["db_rss_mb"] = round(sampler.max_rss["db"] / 1024, 1)
    point["server_cpu_us_per_req"] = round(sampler.cpu_pct["server"] / 100 * args.duration * 1e6 / point["requests"], 1) if point["requests"] else None
    point["machine_cpu_pct"] = sampler.machine_pct
    point["wrk_cpu_pct"] = sampler.loadgen_pct
    point["others_cpu_pct"] = sampler.others_pct
    point["load_avg_1m"] = round(sampler.load0, 2)
    return point
