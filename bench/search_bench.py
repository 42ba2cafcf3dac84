#!/usr/bin/env python3
"""Phone search and the admin search box (q) at 1,000,000 rows on MariaDB: p50/p99 and req/s, 1 and 16 connections.

    python3 bench/search_bench.py                      # 1,000,000 rows, 8 s per point
    python3 bench/search_bench.py --rows 100000 --seconds 3

Standalone (not part of bench/run.sh), the approach of bench/lists_lifecycle.py: its own mariadbd and one
service (Release, Cache None) on loopback; the table is filled by one INSERT ... SELECT from the sequence engine
(phones in several spellings, every 100th row soft-deleted). Migration 0009 is timed on the filled table: its
column and index are dropped, its record removed, and `migrate` runs it again (the time includes the CLI's start).
Each point runs for --seconds with N keep-alive connections (Python threads; at 16 the client shares the 2 cores,
so req/s there is a floor). Python 3 standard library only; stops everything it started.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.common import REPO, free_port, log  # noqa: E402
from harness.servers import MariaDB, Processes, service_env  # noqa: E402

CURSOR_KEY = "bench-search-cursor-key-0123456789abcdef0123"


def fill(db: MariaDB, rows: int) -> dict:
    t0 = time.monotonic()
    # Area 200-999 and a 7-digit number, both permutations of seq; three spellings of the same digits.
    db.sql(f"""SET SESSION unique_checks = 0;
        INSERT INTO customers (id, name, email, phone, created_at, updated_at, version, email_key, name_key)
        SELECT seq, CONCAT('Name ', seq), CONCAT('user', seq, '@example.com'),
               CASE seq % 3
                 WHEN 0 THEN CONCAT('+1 (', 200 + (seq * 7919) % 800, ') ', LPAD((seq * 104729) % 10000000, 7, '0'))
                 WHEN 1 THEN CONCAT('1-', 200 + (seq * 7919) % 800, '-', LPAD((seq * 104729) % 10000000, 7, '0'))
                 ELSE CONCAT('1.', 200 + (seq * 7919) % 800, '.', LPAD((seq * 104729) % 10000000, 7, '0')) END,
               TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND,
               1, CONCAT('user', seq, '@example.com'), CONCAT('name ', seq)
        FROM seq_1_to_{rows};
        SET SESSION unique_checks = 1;
        UPDATE customers SET deleted_at = updated_at WHERE id % 100 = 0;
        ANALYZE TABLE customers;""", database="customers")
    return {"rows": rows, "fill_s": round(time.monotonic() - t0, 1)}


def time_migration(db: MariaDB, dll: Path, env: dict, cwd: Path) -> float:
    # The service's default command timeout (5 s) is shorter than this ALTER on 1M rows: `migrate` gets 30 minutes.
    db.sql("ALTER TABLE customers DROP INDEX ix_customers_phone_key, DROP COLUMN phone_key; "
           "DELETE FROM schema_migrations WHERE version = 9;", database="customers")
    migrate_env = dict(env)
    migrate_env["ConnectionStrings__Customers"] = env["ConnectionStrings__Customers"] + ";Default Command Timeout=1800"
    t0 = time.monotonic()
    subprocess.run(["dotnet", str(dll), "migrate"], env=migrate_env, check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    return round(time.monotonic() - t0, 1)


def load(port: int, path: str, connections: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    samples: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures[i] += 1
            samples[i].append((time.perf_counter() - t0) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    times = sorted(s for per in samples for s in per)
    pick = lambda q: round(times[min(len(times) - 1, int(len(times) * q))], 2)  # noqa: E731
    return {"connections": connections, "requests": len(times), "non_200": sum(failures),
            "req_per_s": round(len(times) / elapsed, 1), "p50_ms": pick(0.50), "p99_ms": pick(0.99)}


def get_json(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status}")
    return json.loads(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--buffer-pool", default="1G")
    args = parser.parse_args()

    procs = Processes()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        work = Path(tmp)
        try:
            log("publishing the service (Release)")
            api = work / "api"
            subprocess.run(["dotnet", "publish", str(REPO / "src" / "CustomerRecords.Api"), "-c", "Release", "-o", str(api),
                            "--nologo", "-v", "quiet"], check=True, stdout=subprocess.DEVNULL)
            dll = api / "CustomerRecords.Api.dll"

            log("starting mariadbd")
            db = MariaDB(procs, work, args.buffer_pool)
            db.start()
            port = free_port()
            env = service_env(db, "None", None, port)
            env["Customers__CursorKey"] = CURSOR_KEY
            subprocess.run(["dotnet", str(dll), "migrate"], env=env, check=True, cwd=api, stdout=subprocess.DEVNULL)

            log(f"filling {args.rows:,} rows")
            loaded = fill(db, args.rows)
            log(f"loaded: {loaded}; timing migration 0009")
            loaded["migration_0009_s"] = time_migration(db, dll, env, api)
            log(f"migration 0009: {loaded['migration_0009_s']} s")

            procs.start("service", ["dotnet", str(dll)], env=env, cwd=api, log_path=work / "service.log")
            deadline = time.monotonic() + 60
            while True:
                try:
                    get_json(port, "/customers?limit=1")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the service did not answer within 60 s") from None
                    time.sleep(0.2)

            # Row 123457 (not deleted): its full number and the first 6 digits of it.
            seq = 123457
            digits = f"1{200 + (seq * 7919) % 800}{(seq * 104729) % 10000000:07d}"
            full = urllib.parse.quote(f"+1 ({digits[1:4]}) {digits[4:]}")
            prefix = digits[:6]
            q_first = get_json(port, "/customers?q=name%2012&limit=50")
            cursor = urllib.parse.quote(q_first["next"])
            points = {
                "phone=<full number>": f"/customers?phone={full}",
                "phone=<6-digit prefix>": f"/customers?phone={prefix}",
                "q=<name prefix> (admin search box)": "/customers?q=name%2012&limit=50",
                "q=<name prefix>, second page (cursor)": f"/customers?q=name%2012&limit=50&after={cursor}",
            }
            results = {}
            for name, path in points.items():
                page = get_json(port, path)
                results[name] = {"items": len(page["items"]), "runs": []}
                for connections in (1, 16):
                    run = load(port, path, connections, args.seconds)
                    results[name]["runs"].append(run)
                    log(f"{name} x{connections}: p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, {run['req_per_s']} req/s, non-200 {run['non_200']}")

            print(json.dumps({"loaded": loaded, "load_average": os.getloadavg(), "seconds": args.seconds,
                              "cpus": os.cpu_count(), "results": results}, indent=2))
            return 0
        finally:
            procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
