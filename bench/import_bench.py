#!/usr/bin/env python3
"""Import benchmark: on a private MariaDB, `import` of N CSV rows into an empty table, the same file again with
--on-conflict skip into the full table, the import process's peak RSS, and a bare LOAD DATA LOCAL INFILE of the
same rows into a copy of the table as the reference, and `seed --count N` into a second empty database.
Usage: bench/import_bench.py [--rows N] [--batch-size N] [--steps first,second,load,seed] [--out FILE.md]"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness.common import free_port
from harness.servers import MariaDB, Processes, service_env

ROOT = Path(__file__).resolve().parent.parent
DLL = ROOT / "src/CustomerRecords.Api/bin/Release/net10.0/CustomerRecords.Api.dll"


def write_csv(path: Path, rows: int) -> None:
    firsts = ["Ada", "Alan", "Barbara", "Claude", "Zoë", "Grace", "Hedy", "Ivan", "Jean", "Ken"]
    lasts = ["Allen", "Backus", "Cerf", "Dijkstra", "O'Brien", "Floyd", "Hopper", "Knuth", "Lamport", "Liskov"]
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("name,email,phone,created_at\n")
        for i in range(1, rows + 1):
            first, last = firsts[i % 10], lasts[(i // 10) % 10]
            name = f'"{last}, {first}"' if i % 7 == 0 else f"{first} {last}"
            phone = "" if i % 5 == 0 else f"+1-555-{i % 10000:04d}"
            stamp = (base + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.write(f"{name},{first.lower()}.{last.lower().replace(chr(39), '')}.{i}@example.com,{phone},{stamp}\n")


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) // 1024 for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), 0)
    maria = subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout.strip()
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    return f"- CPU: {os.cpu_count()} × {cpu}\n- Memory: {mem:,} MiB\n- Kernel: {os.uname().release}\n- {maria}\n- .NET SDK {dotnet}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(argv: list[str], env: dict, log: Path, db: MariaDB) -> tuple[float, int, int, str, float, float]:
    """Runs a command; answers seconds, exit code, peak RSS in MiB (VmHWM, sampled), standard error, and the CPU
    seconds of the command and of the database meanwhile (on a shared machine CPU seconds vary less than wall time)."""
    start = time.monotonic()
    db_start = cpu_seconds(db.proc.pid)
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=out, cwd=DLL.parent)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except (FileNotFoundError, ProcessLookupError):
                pass
            time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (time.monotonic() - start, proc.returncode, peak // 1024, log.read_text(), usage.ru_utime + usage.ru_stime,
            cpu_seconds(db.proc.pid) - db_start)


def main() -> int:
    global DLL
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=None, help="--batch-size for import and seed (default: theirs)")
    parser.add_argument("--steps", default="first,second,load,seed",
                        help="comma-separated steps to run: first (import into the empty table), second (the same file "
                             "again, skip), load (bare LOAD DATA), seed (seed --count N into an empty database)")
    parser.add_argument("--dll", default=None, help="the build to run (default: this tree's Release build)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the import and seed processes (e.g. DOTNET_gcServer=0), repeatable")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (the file, the database, the logs)")
    parser.add_argument("--out", default=str(ROOT / "bench/results/2026-12-02-import.md"))
    args = parser.parse_args()
    DLL = Path(args.dll).resolve() if args.dll else DLL
    steps = set(args.steps.split(","))
    batch = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    skipped = (0.0, 0, 0, "(not run)", 0.0, 0.0)
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    load_before = os.getloadavg()
    try:
        db = MariaDB(procs, work, "1G")
        db.start()
        extra = dict(item.split("=", 1) for item in args.env)
        env = service_env(db, "None", None, free_port()) | extra
        csv = work / "customers.csv"
        write_csv(csv, args.rows)
        subprocess.run(["dotnet", str(DLL), "migrate"], env=env, check=True, capture_output=True, cwd=DLL.parent)

        first = timed(["dotnet", str(DLL), "import", str(csv), *batch], env, work / "import-1.log", db) if "first" in steps else skipped
        count = int(db.sql("SELECT COUNT(*) FROM customers", database="customers").stdout)
        events = int(db.sql("SELECT COUNT(*) FROM customer_events", database="customers").stdout)
        second = skipped
        if "second" in steps:
            second = timed(["dotnet", str(DLL), "import", str(csv), "--on-conflict", "skip", *batch], env, work / "import-2.log", db)

        load_s, copied = 0.0, 0
        if "load" in steps:
            db.sql("CREATE TABLE customers_copy LIKE customers;", database="customers")
            start = time.monotonic()
            db.sql(f"""LOAD DATA LOCAL INFILE '{csv}' INTO TABLE customers_copy
                CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\\n' IGNORE 1 LINES
                (name, email, @phone, @created)
                SET phone = NULLIF(@phone, ''), created_at = STR_TO_DATE(@created, '%Y-%m-%dT%H:%i:%sZ'), updated_at = NOW(6),
                    version = 1, email_key = LOWER(email), name_key = LOWER(name);""", database="customers", local_infile=True)
            load_s = time.monotonic() - start
            copied = int(db.sql("SELECT COUNT(*) FROM customers_copy", database="customers").stdout)

        seed, seeded, seed_events = skipped, 0, 0
        if "seed" in steps:
            # Its own empty database: the fake customers' emails could meet the file's.
            db.sql("CREATE DATABASE seeded;")
            seed_env = service_env(db, "None", None, free_port(), database="seeded") | extra
            subprocess.run(["dotnet", str(DLL), "migrate"], env=seed_env, check=True, capture_output=True, cwd=DLL.parent)
            seed = timed(["dotnet", str(DLL), "seed", "--count", str(args.rows), "--seed-value", "1", "--force", *batch],
                         seed_env, work / "seed.log", db)
            seeded = int(db.sql("SELECT COUNT(*) FROM customers", database="seeded").stdout)
            seed_events = int(db.sql("SELECT COUNT(*) FROM customer_events", database="seeded").stdout)
    finally:
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    info = machine()
    summary = lambda run: run[3].strip().splitlines()[-1] if run[3].strip() else "(no output)"
    text = f"""# Import benchmark, {dt.date.today().isoformat()}

`bench/import_bench.py --rows {args.rows}` on a private MariaDB (buffer pool 1 GiB, binary log off, durable commits:
`innodb_flush_log_at_trx_commit=1`), batch size {args.batch_size or "default"}, Cache:Mode None, Production environment{"".join(f", `{e}`" for e in args.env)}.

| Step | Rows | Seconds | Rows/s | Peak RSS | CPU s (command / database) | Exit |
|---|---|---|---|---|---|---|
| `import` into the empty table | {args.rows:,} | {first[0]:.1f} | {args.rows / max(first[0], 1e-9):,.0f} | {first[2]} MiB | {first[4]:.1f} / {first[5]:.1f} | {first[1]} |
| the same file again, `--on-conflict skip`, into the full table | {args.rows:,} | {second[0]:.1f} | {args.rows / max(second[0], 1e-9):,.0f} | {second[2]} MiB | {second[4]:.1f} / {second[5]:.1f} | {second[1]} |
| reference: bare `LOAD DATA LOCAL INFILE` into a copy of the table (no events, no checks) | {copied:,} | {load_s:.1f} | {copied / max(load_s, 1e-9):,.0f} | — | — | — |
| `seed --count {args.rows}` into an empty database | {seeded:,} | {seed[0]:.1f} | {args.rows / max(seed[0], 1e-9):,.0f} | {seed[2]} MiB | {seed[4]:.1f} / {seed[5]:.1f} | {seed[1]} |

After the first import: {count:,} customers and {events:,} history events; after seed: {seeded:,} and {seed_events:,}. Seconds include the process start
(about 1–2 s of .NET start-up, settings and schema check).

Summaries as printed:

- first: `{summary(first)}`
- second: `{summary(second)}`
- seed: `{summary(seed)}`

Targets (for 1,000,000 rows): first import ≤ 60 s, second ≤ 90 s, peak RSS ≤ 200 MB.

## Machine

{info}

Load average before: {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}; after: {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f}
(the machine's 2 cores were shared with other work during the run: numbers are lower bounds of what it does alone).
"""
    Path(args.out).write_text(text)
    print(text)
    return 0 if first[1] == 0 and second[1] == 0 and seed[1] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
