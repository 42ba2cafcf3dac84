#!/usr/bin/env python3
"""Bulk export on MariaDB: the `export` command (CSV and NDJSON to a file) and GET /customers/export, against
the `mariadb --batch` dump of the same rows as the reference.

    python3 bench/export.py                          # 1,000,000 rows (1% soft-deleted), one run per point
    python3 bench/export.py --rows 100000 --runs 2 --report bench/results/2026-12-02-export.md

Standalone (not part of bench/run.sh): starts its own mariadbd (harness.servers.MariaDB), publishes the service
(Release), fills the table with one INSERT ... SELECT from MariaDB's sequence engine (every 7th name with a comma
and quotes, every 3rd phone NULL), then times each point sequentially: wall time, bytes, rows, and the process's
peak RSS (ru_maxrss from wait4 for the commands; VmHWM of the serving process for HTTP, which includes what it
held before the request). The machine's load average is recorded before and after, because the machine may be
shared. Python 3 standard library only; stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.common import REPO, free_port, log  # noqa: E402
from harness.machine import git_commit, machine_info, status_line  # noqa: E402
from harness.servers import MariaDB, Processes, service_env  # noqa: E402

LIVE = "SELECT id, name, email, phone, created_at, updated_at, version FROM customers WHERE deleted_at IS NULL ORDER BY id"


def fill(db: MariaDB, rows: int) -> dict:
    t0 = time.monotonic()
    db.sql(f"""SET SESSION unique_checks = 0;
        INSERT INTO customers (id, name, email, phone, created_at, updated_at, version, email_key, name_key)
        SELECT seq, IF(seq % 7 = 0, CONCAT('Doe, "Jay" ', seq), CONCAT('Name ', seq)), CONCAT('user', seq, '@example.com'),
               IF(seq % 3 = 0, NULL, CONCAT('+1 555 ', LPAD(seq % 10000, 4, '0'))),
               TIMESTAMP'2024-01-01 00:00:00.123456' + INTERVAL seq SECOND,
               TIMESTAMP'2024-01-01 00:00:00.654321' + INTERVAL seq SECOND,
               1, CONCAT('user', seq, '@example.com'), CONCAT('name ', seq)
        FROM seq_1_to_{rows};
        SET SESSION unique_checks = 1;
        UPDATE customers SET deleted_at = updated_at WHERE id % 100 = 0;
        ANALYZE TABLE customers;""", database="customers")
    live = int(db.sql("SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL", database="customers").stdout.strip())
    return {"rows": rows, "live": live, "fill_s": round(time.monotonic() - t0, 1)}


def run_measured(argv: list[str], env: dict, cwd: Path, stdout_path: Path | None = None) -> dict:
    """Runs a command to completion: wall seconds and its peak RSS (wait4's ru_maxrss, KiB)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        stderr = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout_path:
            out.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {proc.returncode}: {stderr.decode(errors='replace')[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "stderr_tail": stderr.decode(errors="replace").strip().splitlines()[-1:]}


def http_export(base: str, accept: str, pid: int) -> dict:
    request = urllib.request.Request(base + "/customers/export", headers={"Accept": accept})
    t0 = time.monotonic()
    size = 0
    lines = 0
    first = None
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(1 << 16):
            if first is None:
                first = time.monotonic() - t0
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.monotonic() - t0
    return {"seconds": round(seconds, 2), "first_byte_ms": round((first or 0) * 1000, 1), "bytes": size, "lines": lines,
            "mib_per_s": round(size / 1024 / 1024 / seconds, 1),
            "server_peak_rss_mib": round(status_line(f"/proc/{pid}/status", "VmHWM") / 1024, 1)}


def loadavg() -> str:
    return open("/proc/loadavg").read().strip()


def best(points: list[dict]) -> dict:
    """The median run by seconds (with its own RSS and sizes)."""
    ordered = sorted(points, key=lambda p: p["seconds"])
    return {**ordered[len(ordered) // 2], "runs_s": [p["seconds"] for p in points]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--buffer-pool", default="1G")
    parser.add_argument("--report", help="also write the Markdown report here")
    args = parser.parse_args()

    procs = Processes()
    result: dict = {"commit": git_commit()}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        try:
            result["load_before"] = loadavg()
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
            subprocess.run(["dotnet", str(dll), "migrate"], env=env, check=True, cwd=api, stdout=subprocess.DEVNULL)

            log(f"filling {args.rows:,} rows")
            result["loaded"] = fill(db, args.rows)
            log(f"loaded: {result['loaded']}")

            points: dict[str, list[dict]] = {}
            mysql = ["mariadb", "--no-defaults", f"--socket={db.socket}", "-uroot", "--batch", "--quick", "customers", "-e", LIVE]
            for run in range(args.runs):
                for name, argv, path in [
                    ("reference: mariadb --batch --quick (TSV)", mysql, work / "ref.tsv"),
                    ("export --format csv --out", ["dotnet", str(dll), "export", "--format", "csv", "--out", str(work / "x.csv")], None),
                    ("export --format ndjson --out", ["dotnet", str(dll), "export", "--format", "ndjson", "--out", str(work / "x.ndjson")], None),
                ]:
                    point = run_measured(argv, env, api, path)
                    target = path or Path(argv[-1])
                    point["bytes"] = target.stat().st_size
                    points.setdefault(name, []).append(point)
                    log(f"{name}: {point['seconds']} s, {point['bytes']:,} bytes, peak RSS {point['peak_rss_mib']} MiB")

            service = procs.start("service", ["dotnet", str(dll)], env=env, cwd=api, log_path=work / "service.log")
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/health/live", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the service did not answer within 60 s") from None
                    time.sleep(0.2)
            pid = service.pid
            for run in range(args.runs):
                for name, accept in [("GET /customers/export (NDJSON)", "application/x-ndjson"), ("GET /customers/export (CSV)", "text/csv")]:
                    point = http_export(base, accept, pid)
                    points.setdefault(name, []).append(point)
                    log(f"{name}: {point['seconds']} s, {point['mib_per_s']} MiB/s, first byte {point['first_byte_ms']} ms, "
                        f"server VmHWM {point['server_peak_rss_mib']} MiB")

            result["points"] = {name: best(runs) for name, runs in points.items()}
            result["load_after"] = loadavg()
        finally:
            procs.stop_all()

    result["machine"] = machine_info_safe()
    print(json.dumps(result, indent=2))
    if args.report:
        Path(args.report).write_text(render(result, args))
    return 0


def machine_info_safe() -> dict:
    try:
        return machine_info()
    except (IndexError, OSError):  # wrk may be absent; the rest still tells the machine
        model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
        return {"cpus": os.cpu_count(), "cpu_model": model,
                "memory_gib": round(status_line("/proc/meminfo", "MemTotal") / 1024 / 1024, 1),
                "mariadb": subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout.strip(),
                "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()}


def render(result: dict, args: argparse.Namespace) -> str:
    m = result["machine"]
    live = result["loaded"]["live"]
    lines = [
        f"# Bulk export, {result['loaded']['rows']:,} rows on MariaDB ({live:,} live) — commit {result['commit']}",
        "",
        f"`python3 bench/export.py --rows {args.rows} --runs {args.runs}`. Machine: {m.get('cpus')} × {m.get('cpu_model')}, "
        f"{m.get('memory_gib')} GiB, {m.get('mariadb')}, .NET {m.get('dotnet')}. Private mariadbd, {args.buffer_pool} buffer pool, "
        "binary log off; everything on one machine over loopback.",
        "",
        f"**Load:** `/proc/loadavg` {result['load_before']} before, {result['load_after']} after. The machine is shared with other "
        "work (builds and test runs); the numbers are one sequential run each and carry that noise.",
        "",
        "| Point | Seconds | Rows/s | Bytes | Peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, p in result["points"].items():
        rss = p.get("peak_rss_mib", p.get("server_peak_rss_mib"))
        lines.append(f"| {name} | {p['seconds']} | {live / p['seconds']:,.0f} | {p['bytes']:,} | {rss} |")
    lines += [
        "",
        "Peak RSS: the command's own (`ru_maxrss`); for HTTP the serving process's high-water mark (`VmHWM`) after the request, "
        "which includes the memory it held before it. Targets: export ≤ 20 s and RSS ≤ 200 MB for 1,000,000 rows.",
        "",
    ]
    for name, p in result["points"].items():
        if p.get("stderr_tail") and name.startswith("export"):
            lines.append(f"- {name}: the command's own summary (from the snapshot's start, without the ~1–2 s of process start "
                         f"and host build that Seconds includes): `{p['stderr_tail'][0]}`.")
        if "first_byte_ms" in p:
            lines.append(f"- {name}: first byte after {p['first_byte_ms']} ms, {p['mib_per_s']} MiB/s, {p['lines']:,} lines.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
