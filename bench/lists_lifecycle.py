#!/usr/bin/env python3
"""List pages over the customer lifecycle on MariaDB: updated_since (first and deep page), count=exact, count=estimated.

    python3 bench/lists_lifecycle.py                 # 1,000,000 rows, 1% soft-deleted, 30 timed requests per point
    python3 bench/lists_lifecycle.py --rows 100000 --runs 10

Standalone (not part of bench/run.sh): starts its own mariadbd (harness.servers.MariaDB) and one service
(Release build, Cache None), fills the table with one INSERT ... SELECT from MariaDB's sequence engine,
soft-deletes every 100th row, then times each request sequentially from one client over loopback
(median and p95 of --runs after 3 warm-ups). Python 3 standard library only; stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.common import REPO, free_port, log  # noqa: E402
from harness.servers import MariaDB, Processes, service_env  # noqa: E402

CURSOR_KEY = "bench-lists-lifecycle-cursor-key-0123456789abcdef"


def fill(db: MariaDB, rows: int) -> dict:
    t0 = time.monotonic()
    # updated_at is a permutation of the rows' seconds (7 is prime to 10^k), so the (updated_at, id) index
    # order differs from the id order; created_at follows the id.
    db.sql(f"""SET SESSION unique_checks = 0;
        INSERT INTO customers (id, name, email, phone, created_at, updated_at, version, email_key, name_key)
        SELECT seq, CONCAT('Name ', seq), CONCAT('user', seq, '@example.com'), NULL,
               TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND,
               TIMESTAMP'2024-01-01 00:00:00' + INTERVAL ((seq * 7) % {rows}) SECOND,
               1, CONCAT('user', seq, '@example.com'), CONCAT('name ', seq)
        FROM seq_1_to_{rows};
        SET SESSION unique_checks = 1;""", database="customers")
    t_insert = time.monotonic() - t0
    db.sql("UPDATE customers SET deleted_at = updated_at + INTERVAL 1 DAY WHERE id % 100 = 0; ANALYZE TABLE customers;",
           database="customers")
    t_delete = time.monotonic() - t0 - t_insert
    live = int(db.sql("SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL", database="customers").stdout.strip())
    return {"rows": rows, "live": live, "insert_s": round(t_insert, 1), "soft_delete_and_analyze_s": round(t_delete, 1)}


def get(base: str, path: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=60) as response:
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
    return (time.perf_counter() - t0) * 1000, json.loads(body)


def measure(base: str, path: str, runs: int) -> dict:
    for _ in range(3):
        get(base, path)
    times = sorted(get(base, path)[0] for _ in range(runs))
    _, page = get(base, path)
    return {"path": path, "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2),
            "items": len(page["items"]), "total": page.get("total")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--buffer-pool", default="1G")
    args = parser.parse_args()

    procs = Processes()
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as tmp:
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
            log(f"loaded: {loaded}")

            procs.start("service", ["dotnet", str(dll)], env=env, cwd=api, log_path=work / "service.log")
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    get(base, "/customers?limit=1")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the service did not answer within 60 s") from None
                    time.sleep(0.2)

            since = "2024-01-01T00:00:00Z"
            # A cursor ~90% of the way through the updated_since listing: the last row of the first page that
            # starts there. Cursors do not bind the filter, so it continues the listing from `since` at that depth.
            deep_since = f"2024-01-{1 + (args.rows * 9 // 10) // 86400:02d}T{((args.rows * 9 // 10) % 86400) // 3600:02d}:00:00Z"
            _, deep_page = get(base, f"/customers?limit=50&updated_since={deep_since}")
            deep_cursor = urllib.parse.quote(deep_page["next"])

            points = {
                "list id, first page (reference)": "/customers?limit=50",
                "updated_since, first page": f"/customers?limit=50&updated_since={since}",
                "updated_since, deep page (~90% in)": f"/customers?limit=50&updated_since={since}&after={deep_cursor}",
                "state=deleted, first page": "/customers?limit=50&state=deleted",
                "count=exact (all live)": "/customers?limit=1&count=exact",
                "count=exact with updated_since (~90% of rows)": f"/customers?limit=1&count=exact&updated_since=2024-01-02T00:00:00Z",
                "count=estimated (all live)": "/customers?limit=1&count=estimated",
            }
            results = {}
            for name, path in points.items():
                results[name] = measure(base, path, args.runs)
                log(f"{name}: {results[name]['median_ms']} ms median, {results[name]['p95_ms']} ms p95"
                    + (f", total {results[name]['total']}" if results[name]["total"] is not None else ""))

            print(json.dumps({"loaded": loaded, "runs": args.runs, "results": results}, indent=2))
            return 0
        finally:
            procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
