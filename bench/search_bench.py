#!/usr/bin/env python3
"""Search benchmark: the phone search (`?phone=`) and the admin page's name/email search (`?q=`) at N rows.

On a private MariaDB (bench/harness/servers.py): migrates the schema, takes migration 0009 back off (its column,
index and schema_migrations row), bulk-loads N customers whose phones vary like real ones (several countries,
mixed punctuation, a fifth without a phone), times `migrate` applying 0009 over the full table, starts the
Release build (Production environment, cache off, rate limit off, no auth configured: loopback only) and drives it
with wrk and bench/lua/paths.lua, which draws every request from a list of paths so no run is one cached row.
Everything it starts is stopped on exit.

Usage: bench/search_bench.py [--rows N] [--duration S] [--warmup S] [--connections "1 16"] [--out FILE.md]
Needs the Release build first: dotnet build src/CustomerRecords.Api -c Release
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from harness.common import BENCH, clean_env, free_port, log
from harness import data
from harness.servers import MariaDB, Processes, service_env, wait_for

ROOT = BENCH.parent
DLL = ROOT / "src/CustomerRecords.Api/bin/Release/net10.0/CustomerRecords.Api.dll"
LUA = BENCH / "lua" / "paths.lua"
PAGE_SIZE = 25  # src/CustomerRecords.Api/Admin/wwwroot/app.js: const PAGE_SIZE = 25

FIRST = ["Ada", "Alan", "Barbara", "Claude", "Dennis", "Edsger", "Frances", "Grace", "Hedy", "Ivan", "Jean", "Ken",
         "Linus", "Margaret", "Niklaus", "Ole", "Radia", "Sophie", "Tim", "Yukihiro", "Amara", "Bjarne", "Chen",
         "Dorothy", "Emil", "Fatima", "Guido", "Hiroshi", "Ingrid", "Jamal", "Kirsten", "Leslie", "Mateo", "Nadia",
         "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tomasz", "Ursula", "Vikram", "Wanda", "Xavier", "Yara", "Zoë"]
LAST = ["Allen", "Backus", "Cerf", "Dijkstra", "Engelbart", "Floyd", "Goldberg", "Hopper", "Iverson", "Jones",
        "Knuth", "Lamport", "McCarthy", "Naur", "Ousterhout", "Perlis", "Ritchie", "Stroustrup", "Thompson", "Wirth",
        "Liskov", "Hamilton", "Kay", "Lovelace", "Turing", "O'Brien", "García", "Nguyen", "Okafor", "Petrov"]


def phone_for(rng: random.Random) -> str:
    """A phone as people type them: mostly North American numbers in six spellings, some UK and German ones."""
    kind = rng.random()
    if kind < 0.8:
        a, e, n = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        return rng.choice([f"+1 ({a}) {e}-{n:04d}", f"{a}-{e}-{n:04d}", f"({a}) {e}-{n:04d}", f"+1.{a}.{e}.{n:04d}",
                           f"1 {a} {e} {n:04d}", f"+1{a}{e}{n:04d}"])
    if kind < 0.9:
        return rng.choice([f"+44 20 {rng.randint(7000, 8999)} {rng.randint(0, 9999):04d}",
                           f"+44 (0)161 {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"])
    return rng.choice([f"+49 30 {rng.randint(1000000, 99999999)}", f"+49-89-{rng.randint(100000, 9999999)}"])


def search_person(rng: random.Random):
    """Row i's name, email and phone for the search data: names from FIRST x LAST, a fifth without a phone."""
    def person(i: int) -> tuple[str, str, str | None]:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower().replace(chr(39), '')}.{i}@example.com"
        return f"{first} {last}", email, None if rng.random() < 0.2 else phone_for(rng)
    return person


def write_rows(path: Path, rows: int) -> None:
    """The search data in the service's table layout (bench/harness/data.py's writer), seeded: the same rows every run."""
    data.write_rows(path, rows, search_person(random.Random(20261202)))


def run_wrk(base: str, paths_file: Path, connections: int, seconds: int, raw: Path) -> dict:
    env = clean_env() | {"BENCH_PATHS_FILE": str(paths_file)}
    argv = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "2s",
            "-s", str(LUA), base]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    with open(raw, "a") as f:
        f.write(f"$ {' '.join(argv)}  # {paths_file.name}\n{result.stdout}{result.stderr}\n")
    for line in result.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line[len("BENCHJSON "):])
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6) if data["duration_us"] else 0.0
            return data
    raise RuntimeError(f"wrk gave no result: {result.stdout[-300:]} {result.stderr[-300:]}")


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, json.load(response)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", default="1 16")
    parser.add_argument("--samples", type=int, default=5000, help="how many different numbers the phone lists hold")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--out", default=str(BENCH / "results/2026-12-02-search.md"))
    args = parser.parse_args()
    if not DLL.exists():
        raise SystemExit(f"{DLL} is missing: dotnet build src/CustomerRecords.Api -c Release")
    conns = [int(c) for c in args.connections.split()]
    up_before = uptime()
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="search-bench-"))
    raw = work / "wrk.log"
    results: list[tuple[str, str, int, dict]] = []
    facts: dict = {}
    try:
        db = MariaDB(procs, work, "1G")
        db.start()
        env = service_env(db, "None", None, free_port())
        subprocess.run(["dotnet", str(DLL), "migrate"], env=env, check=True, capture_output=True, cwd=DLL.parent)
        # Back to schema version 8: what a database that has not had 0009 yet looks like.
        db.sql("""ALTER TABLE customers DROP INDEX ix_customers_phone_key, DROP COLUMN phone_key;
                  DELETE FROM schema_migrations WHERE version = 9;""", database="customers")
        log(f"schema at version {db.sql('SELECT MAX(version) FROM schema_migrations', database='customers').stdout.strip()}")

        t0 = time.monotonic()
        tsv = work / "customers.tsv"
        write_rows(tsv, args.rows)
        t1 = time.monotonic()
        db.sql("SET GLOBAL innodb_flush_log_at_trx_commit = 2;")
        db.sql(f"""SET SESSION unique_checks = 0; SET SESSION foreign_key_checks = 0;
            LOAD DATA LOCAL INFILE '{tsv}' INTO TABLE customers CHARACTER SET utf8mb4
                FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'
                (id, name, email, phone, created_at, updated_at, version, email_key, name_key);""",
               database="customers", local_infile=True)
        db.sql("SET GLOBAL innodb_flush_log_at_trx_commit = 1;")
        t2 = time.monotonic()
        tsv.unlink()
        facts["generate_s"], facts["load_s"] = t1 - t0, t2 - t1
        facts["rows"] = int(db.sql("SELECT COUNT(*) FROM customers", database="customers").stdout)
        facts["phones"] = int(db.sql("SELECT COUNT(phone) FROM customers", database="customers").stdout)
        log(f"loaded {facts['rows']:,} rows ({facts['phones']:,} with a phone) in {t2 - t0:.1f} s")

        t0 = time.monotonic()
        migrated = subprocess.run(["dotnet", str(DLL), "migrate"], env=env, capture_output=True, text=True, cwd=DLL.parent)
        facts["migrate_s"] = time.monotonic() - t0
        facts["migrate_out"] = (migrated.stdout + migrated.stderr).strip().splitlines()[-1:] or ["(no output)"]
        if migrated.returncode != 0:
            raise RuntimeError(f"migrate failed: {migrated.stdout[-500:]} {migrated.stderr[-500:]}")
        facts["alter_note"] = "includes the process start, about 1–2 s"
        log(f"migrate (0009 over {facts['rows']:,} rows): {facts['migrate_s']:.1f} s: {facts['migrate_out'][0]}")

        port = free_port()
        service = procs.start("service", ["dotnet", str(DLL)], env=service_env(db, "None", None, port),
                              log_path=work / "service.log", cwd=DLL.parent)
        base = f"http://127.0.0.1:{port}"
        if wait_for(base + "/health/live", service, timeout=60) is None:
            raise RuntimeError(f"the service did not start; see {work / 'service.log'}")

        # Paths: many different existing numbers, drawn from the table (the stored spelling and its digits).
        rows = [line.split("\t") for line in db.sql(
            f"SELECT phone, phone_key FROM customers WHERE phone IS NOT NULL ORDER BY RAND() LIMIT {args.samples}",
            database="customers").stdout.splitlines()]
        q = lambda **p: "/customers?" + urllib.parse.urlencode(p, quote_via=urllib.parse.quote)
        lists = {
            "phone_full": [q(phone=key, limit=PAGE_SIZE) for _, key in rows],
            "phone_prefix6": [q(phone=key[:6], limit=PAGE_SIZE) for _, key in rows],
            "phone_punctuated": [q(phone=phone, limit=PAGE_SIZE) for phone, _ in rows],
        }
        # q matches the start of the name or the email, so the admin page's typical search is a first name's start.
        prefixes = sorted({n[:3] for n in FIRST})
        lists["q_prefix3"] = [q(q=p, limit=PAGE_SIZE) for p in prefixes]
        second = []
        for path in lists["q_prefix3"]:
            status, page = get_json(base + path)
            if page.get("next"):
                second.append(path + "&after=" + urllib.parse.quote(page["next"]))
        lists["q_prefix3_page2"] = second

        # What the lists match: the rows each answers (first page), averaged over a sample, and the status.
        for name, paths in lists.items():
            counts = []
            for path in random.Random(1).sample(paths, min(50, len(paths))):
                status, page = get_json(base + path)
                if status != 200:
                    raise RuntimeError(f"{name}: {path.split('?')[0]} answered {status}")
                counts.append(len(page.get("items", page.get("data", []))))
            facts[f"{name}_avg_items"] = sum(counts) / len(counts)
            facts[f"{name}_paths"] = len(paths)
        full6 = db.sql("SELECT AVG(c) FROM (SELECT COUNT(*) c FROM customers WHERE phone_key IS NOT NULL "
                       "GROUP BY LEFT(phone_key, 6)) t", database="customers").stdout.strip()
        facts["rows_per_prefix6"] = float(full6)
        lo = rows[0][1][:6]
        hi = lo[:-1] + str(int(lo[-1]) + 1) if lo[-1] != "9" else lo + "a"
        facts["plan_phone"] = db.sql(f"EXPLAIN SELECT id FROM customers WHERE phone_key >= '{lo}' AND phone_key < '{hi}' "
                                     "AND deleted_at IS NULL ORDER BY phone_key, id LIMIT 26",
                                     database="customers").stdout.strip()

        for name, paths in lists.items():
            paths_file = work / f"{name}.paths"
            paths_file.write_text("\n".join(paths) + "\n")
            for c in conns:
                if args.warmup:
                    run_wrk(base, paths_file, c, args.warmup, raw)
                point = run_wrk(base, paths_file, c, args.duration, raw)
                log(f"{name} c={c}: {point['rps']:.0f} req/s, p50 {point['latency_us']['p50'] / 1000:.2f} ms, "
                    f"p99 {point['latency_us']['p99'] / 1000:.2f} ms, errors {point['errors']}")
                results.append((name, paths[0], c, point))
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    up_after = uptime()
    write_report(Path(args.out), args, facts, results, up_before, up_after)
    return 0


DESCRIBE = {
    "phone_full": "`?phone=<all digits of an existing number>&limit=25`",
    "phone_prefix6": "`?phone=<first 6 digits of an existing number>&limit=25`",
    "phone_punctuated": "`?phone=<the number as stored, e.g. %2B1%20(555)%20010-2000>&limit=25`",
    "q_prefix3": "`?q=<3-letter name prefix>&limit=25` (admin search, first page)",
    "q_prefix3_page2": "the same, second page (`&after=<first page's next>`)",
}


def write_report(out: Path, args, facts: dict, results, up_before: str, up_after: str) -> None:
    maria = subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout.strip()
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    table = "\n".join(
        f"| {DESCRIBE[name]} | {facts.get(name + '_paths', 0):,} | {facts.get(name + '_avg_items', 0):.1f} | {c} | "
        f"{p['latency_us']['p50'] / 1000:.2f} | {p['latency_us']['p99'] / 1000:.2f} | {p['rps']:,.0f} | "
        f"{p['errors']['status'] + p['errors']['timeout'] + p['errors']['connect'] + p['errors']['read']} |"
        for name, _, c, p in results)
    text = f"""# Search benchmark, {dt.date.today().isoformat()}

`bench/search_bench.py --rows {args.rows} --duration {args.duration} --warmup {args.warmup} --connections "{args.connections}"`
at commit {commit}: the Release build (`dotnet build src/CustomerRecords.Api -c Release`), Production environment,
Cache:Mode None (every answer from the database), rate limit off, no auth configured, loopback only; a private MariaDB
(buffer pool 1 GiB, binary log off, durable commits); wrk with bench/lua/paths.lua, each request a path drawn at random
from the list (so no point is one cached row), {args.warmup} s warm-up then {args.duration} s measured per point, 2 wrk threads
(1 for one connection).

## Data

{facts.get('rows', 0):,} customers ({facts.get('phones', 0):,} with a phone), generated and bulk-loaded
(LOAD DATA) in {facts.get('generate_s', 0) + facts.get('load_s', 0):.1f} s ({facts.get('generate_s', 0):.1f} s generating, {facts.get('load_s', 0):.1f} s loading).
Phones as people type them: 80 % North American in six spellings (`+1 (415) 555-0123`, `415-555-0123`, `(415) 555-0123`,
`+1.415.555.0123`, `1 415 555 0123`, `+14155550123`), 10 % UK (`+44 20 7946 0958`, `+44 (0)161 …`), 10 % German, a fifth
of the customers without one. Names from 46 first × 30 last names, drawn at random: each of the {facts.get('q_prefix3_paths', 0)} first-name 3-letter prefixes
matches about {facts.get('rows', 0) / max(1, facts.get('q_prefix3_paths', 1)):,.0f} rows.
A 6-digit prefix matches {facts.get('rows_per_prefix6', 0):.1f} rows on average.

## Migration 0009 over the full table

Schema migrated to the latest, 0009 taken back off (its column, index and `schema_migrations` row), the rows loaded, then
`dotnet CustomerRecords.Api.dll migrate`: **{facts.get('migrate_s', 0):.1f} s** for {facts.get('rows', 0):,} rows ({facts.get('alter_note', '')}),
printed `{facts.get('migrate_out', [''])[0]}`. The ALTER adds a STORED generated column, so MariaDB rebuilds the table
(ALGORITHM=COPY); writes to the table wait for it meanwhile.

## Latency and throughput

| Query | Different paths | Rows per answer (avg of 50) | Connections | p50 ms | p99 ms | req/s | Errors |
|---|---|---|---|---|---|---|---|
{table}

Plan of the phone range (EXPLAIN):

```
{facts.get('plan_phone', '')}
```

## Machine

- CPU: {os.cpu_count()} cores; {maria}; .NET SDK {dotnet}; kernel {os.uname().release}
- `uptime` before: `{up_before}`
- `uptime` after: `{up_after}`

The machine's 2 cores were shared with other work during the run (see the load above), and wrk, the service and
MariaDB share them too: the numbers are lower bounds of what the service does alone.
"""
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except RuntimeError as e:
        log(f"failed: {e}")
        raise SystemExit(1)
