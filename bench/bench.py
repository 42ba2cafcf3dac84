#!/usr/bin/env python3
"""CustomerRecords benchmark driver (Python 3 standard library only).

Builds the service and the reference program (Release), starts a private MariaDB and Redis on free
loopback ports, bulk-loads N customers, starts each program under test, drives it with wrk and
bench/lua/bench.lua, samples the server's CPU and memory from /proc, and writes a report to
bench/results/. Everything it starts is stopped on exit, including on Ctrl-C.

Run it through bench/run.sh, which installs the Debian packages it needs first.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LUA = BENCH / "lua" / "bench.lua"
RESULTS = BENCH / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DB_USER = "bench"
DB_PASSWORD = "bench"

HOT_IDS = 1000  # cached reads draw from this many ids (all cached after the warm-up)
MIX_IDS = 10000  # the read/write mix and the original routes work on this many ids

# name, target, wrk kind, path (or path prefix), id range ("hot", "mix", "all" or None), title
SCENARIOS = [
    ("ref_json", "ref", "fixed", "/json", None, "Reference: bare ASP.NET Core, fixed JSON"),
    ("ref_db", "ref", "get", "/db/", "all", "Reference: bare ASP.NET Core + MySqlConnector, select by id"),
    ("get_db", "svc_none", "get", "/customers/", "all", "GET /customers/{id}, cache off (database)"),
    ("get_cached", "svc_memory", "get", "/customers/", "hot", "GET /customers/{id}, memory cache hits"),
    ("list_first", "svc_memory", "fixed", "/customers?limit=50&sort=id", None, "GET /customers first page (50)"),
    ("list_deep", "svc_memory", "fixed", "DEEP", None, "GET /customers page deep in the table (cursor)"),
    ("mix", "svc_memory", "mix", "/customers/", "mix", "90% GET / 10% PATCH /customers/{id}"),
    ("patch", "svc_memory", "patch", "/customers/", "all", "PATCH /customers/{id} (merge patch: name)"),
    ("create", "svc_memory", "create", "/customers", None, "POST /customers"),
    ("t_read", "svc_memory", "get", "/read/", "mix", "Original route GET /read/{id} (ours)"),
    ("t_update", "svc_memory", "tupdate", "/update/", "mix", "Original route PUT /update/{id} (ours)"),
    ("t_create", "svc_memory", "tcreate", "/create", None, "Original route POST /create (ours)"),
    ("get_cached_redis", "svc_redis", "get", "/customers/", "hot", "GET /customers/{id}, memory + Redis cache hits"),
    ("patch_redis", "svc_redis", "patch", "/customers/", "all", "PATCH /customers/{id}, memory + Redis + backplane"),
    ("tut_read", "tutorial", "get", "/read/", "mix", "Tutorial app GET /read/{id}"),
    ("tut_update", "tutorial", "tupdate", "/update/", "mix", "Tutorial app PUT /update/{id}"),
    ("tut_create", "tutorial", "tcreate", "/create", None, "Tutorial app POST /create"),
]
OURS = {s[0] for s in SCENARIOS if s[1].startswith("svc_")}

READ_ONLY = {"get_db", "get_cached", "get_cached_redis", "list_first", "list_deep", "t_read"}

# Scenarios in one block run one after another at each concurrency before the next concurrency:
# a ratio's two sides are measured minutes apart at most, under the same background load.
BLOCKS = [
    ["ref_json", "get_cached", "get_cached_redis"],
    ["ref_db", "get_db"],
    ["list_first", "list_deep"],
    ["mix"],
    ["t_read", "tut_read"],
    ["patch", "patch_redis"],
    ["t_update", "tut_update"],
    ["create"],
    ["t_create", "tut_create"],
]
assert sorted(n for b in BLOCKS for n in b) == sorted(s[0] for s in SCENARIOS)

FIRST_NAMES = ["Ada", "Alan", "Barbara", "Claude", "Dennis", "Edsger", "Frances", "Grace", "Hedy", "Ivan",
               "Jean", "Ken", "Linus", "Margaret", "Niklaus", "Ole", "Radia", "Sophie", "Tim", "Yukihiro"]
LAST_NAMES = ["Allen", "Backus", "Cerf", "Dijkstra", "Engelbart", "Floyd", "Goldberg", "Hopper", "Iverson",
              "Jones", "Knuth", "Lamport", "McCarthy", "Naur", "Ousterhout", "Perlis", "Ritchie", "Stroustrup",
              "Thompson", "Wirth", "Liskov", "Hamilton", "Kay", "Lovelace", "Turing"]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Every process this run starts, each in its own session, so stop() ends exactly those."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict | None = None, log_path: Path | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True)
        self.running.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 10) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self.running)):
            self.stop(proc)


def http_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return 0


def wait_for(url: str, proc: subprocess.Popen, timeout: float, interval: float = 0.005) -> float | None:
    """Seconds until url first answers 200, or None when the process died or time ran out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            return None
        if http_status(url, timeout=1.0) == 200:
            return time.monotonic() - start
        time.sleep(interval)
    return None


# ---------------------------------------------------------------- /proc sampling

def cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of the line)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total


class Sampler:
    """CPU time used and RSS seen by some processes while a measured run is going."""

    def __init__(self, pids: dict[str, int], interval: float = 0.25) -> None:
        self.pids = pids
        self.interval = interval
        self.max_rss = {name: 0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self.t0 = time.monotonic()
        self.ticks0 = {n: cpu_ticks(p) for n, p in self.pids.items()}
        self.machine0 = machine_ticks()
        self.children0 = children_cpu()
        self.load0 = os.getloadavg()[0]
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pid in self.pids.items():
                self.max_rss[name] = max(self.max_rss[name], status_kb(pid, "VmRSS"))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self.t0
        self.cpu_pct = {n: round(100.0 * (cpu_ticks(p) - self.ticks0[n]) / CLK_TCK / wall, 1) for n, p in self.pids.items()}
        self.hwm = {n: status_kb(p, "VmHWM") for n, p in self.pids.items()}
        busy, total = machine_ticks()
        cores = os.cpu_count() or 1
        self.machine_pct = round(100.0 * cores * (busy - self.machine0[0]) / max(1, total - self.machine0[1]), 1)
        self.loadgen_pct = round(100.0 * (children_cpu() - self.children0) / wall, 1)
        # What the rest of the machine (other users' builds, tests...) took meanwhile: noise to read the numbers by.
        self.others_pct = round(max(0.0, self.machine_pct - sum(self.cpu_pct.values()) - self.loadgen_pct), 1)


def children_cpu() -> float:
    """CPU seconds used by finished child processes (wrk runs) so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- MariaDB and Redis

class MariaDB:
    def __init__(self, procs: Processes, work: Path, buffer_pool: str) -> None:
        self.procs = procs
        self.dir = work / "mariadb"
        self.datadir = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        self.port = free_port()
        self.buffer_pool = buffer_pool
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(["mariadb-install-db", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *as_root], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.proc = self.procs.start("mariadbd", [
            "mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
            "--bind-address=127.0.0.1", f"--socket={self.socket}", f"--pid-file={self.dir / 'mysqld.pid'}",
            *as_root, "--skip-name-resolve", "--skip-log-bin", f"--innodb-buffer-pool-size={self.buffer_pool}",
            "--innodb-log-file-size=512M", "--max-connections=500", "--local-infile=1",
            f"--log-error={self.dir / 'error.log'}",
        ])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited; see {self.dir / 'error.log'}")
            if self.socket.exists() and self.sql("SELECT 1", check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("mariadbd did not start within 60 s")
        self.sql(f"""
            CREATE DATABASE customers; CREATE DATABASE tutorial;
            CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';
            CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASSWORD}';
            GRANT ALL ON *.* TO '{DB_USER}'@'127.0.0.1'; GRANT ALL ON *.* TO '{DB_USER}'@'localhost';""")

    def sql(self, statements: str, database: str = "", check: bool = True, local_infile: bool = False):
        argv = ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "--batch", "--skip-column-names"]
        if local_infile:
            argv.append("--local-infile=1")
        if database:
            argv.append(database)
        result = subprocess.run(argv, input=statements, text=True, capture_output=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"SQL failed: {result.stderr.strip()}")
        return result

    def connection_string(self, database: str) -> str:
        return f"Server=127.0.0.1;Port={self.port};Database={database};User ID={DB_USER};Password={DB_PASSWORD};SslMode=None"


class Redis:
    def __init__(self, procs: Processes, work: Path) -> None:
        self.procs = procs
        self.dir = work / "redis"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = self.procs.start("redis-server", [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.dir), "--protected-mode", "yes",
        ], log_path=self.dir / "redis.log")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 20 s")


# ---------------------------------------------------------------- data

def write_rows(path: Path, rows: int) -> None:
    """Tab-separated rows in the service's table layout, email_key/name_key computed here."""
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    nf, nl = len(FIRST_NAMES), len(LAST_NAMES)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        lines = []
        for i in range(1, rows + 1):
            first, last = FIRST_NAMES[i % nf], LAST_NAMES[(i // nf) % nl]
            name = f"{first} {last}"
            email = f"{first.lower()}.{last.lower()}.{i}@example.com"
            phone = "\\N" if i % 5 == 0 else f"+1-555-{i % 10000:04d}"
            stamp = (base + dt.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.000000")
            lines.append(f"{i}\t{name}\t{email}\t{phone}\t{stamp}\t{stamp}\t1\t{email.lower()}\t{name.lower()}\n")
            if len(lines) == 50000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


def load_data(db: MariaDB, api_dll: Path, work: Path, rows: int, raw: Path) -> dict:
    t0 = time.monotonic()
    env = service_env(db, "None", None, free_port())
    result = subprocess.run(["dotnet", str(api_dll), "migrate"], env=env, capture_output=True, text=True, cwd=api_dll.parent)
    (raw / "migrate.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"migration failed (see {raw / 'migrate.log'})")
    t_migrate = time.monotonic() - t0

    tsv = work / "customers.tsv"
    write_rows(tsv, rows)
    t_generate = time.monotonic() - t0 - t_migrate

    # One LOAD DATA in one transaction; the generator already guarantees uniqueness, so skip the checks.
    db.sql("SET GLOBAL innodb_flush_log_at_trx_commit = 2;")
    db.sql(f"""SET SESSION unique_checks = 0; SET SESSION foreign_key_checks = 0;
        LOAD DATA LOCAL INFILE '{tsv}' INTO TABLE customers
            FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'
            (id, name, email, phone, created_at, updated_at, version, email_key, name_key);
        SET SESSION unique_checks = 1;""", database="customers", local_infile=True)
    t_load = time.monotonic() - t0 - t_migrate - t_generate

    # The original app's database: its own schema (as the tutorial wrote it), the same rows.
    db.sql("""CREATE TABLE customers (
            id INT AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            email VARCHAR(255) NOT NULL UNIQUE,
            phone VARCHAR(20),
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);
        SET SESSION unique_checks = 0;
        LOAD DATA LOCAL INFILE '""" + str(tsv) + """' INTO TABLE customers
            FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'
            (id, name, email, phone, created_at, updated_at, @version, @email_key, @name_key);""",
           database="tutorial", local_infile=True)
    db.sql("SET GLOBAL innodb_flush_log_at_trx_commit = 1;")
    t_tutorial = time.monotonic() - t0 - t_migrate - t_generate - t_load
    tsv.unlink()
    counted = int(db.sql("SELECT COUNT(*) FROM customers", database="customers").stdout.strip())
    if counted != rows:
        raise RuntimeError(f"loaded {counted} rows, expected {rows}")
    return {"rows": rows, "migrate_s": round(t_migrate, 2), "generate_s": round(t_generate, 2),
            "load_s": round(t_load, 2), "tutorial_copy_s": round(t_tutorial, 2)}


def deep_cursor(after_id: int) -> str:
    """The service's keyset cursor for sort=id: version 1, sort 1 (id ascending), id as int32 big-endian."""
    return base64.urlsafe_b64encode(bytes([1, 1]) + struct.pack(">i", after_id)).rstrip(b"=").decode()


# ---------------------------------------------------------------- programs under test

def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DB_", "ASPNETCORE_", "ConnectionStrings__", "Cache__", "Database__", "Logging__", "DOTNET_"))}
    env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1"
    env["DOTNET_NOLOGO"] = "1"
    return env


def service_env(db: MariaDB, cache_mode: str, redis: Redis | None, port: int) -> dict:
    env = clean_env()
    env.update({
        "ASPNETCORE_URLS": f"http://127.0.0.1:{port}",
        "ASPNETCORE_ENVIRONMENT": "Production",
        "Logging__LogLevel__Default": "Warning",
        "Database__Provider": "mysql",
        "Database__SeedSampleData": "false",
        "ConnectionStrings__Customers": db.connection_string("customers"),
        "Cache__Mode": cache_mode,
        "Cache__CacheHeader": "false",
        # wrk is one client on one address; the per-client limit (600/min by default) would answer
        # almost everything 429. The benchmark measures serving, not the limiter.
        "RateLimit__Enabled": "false",
        # Timestamps let a logged failure be matched with the point that caused it (bench/results/raw/).
        "Logging__Console__TimestampFormat": "yyyy-MM-ddTHH:mm:ss.fffZ ",
        "Logging__Console__UseUtcTimestamp": "true",
    })
    if redis is not None:
        env["ConnectionStrings__Redis"] = f"127.0.0.1:{redis.port}"
    return env


class Target:
    """One program under test: started, checked, stopped."""

    def __init__(self, name: str, argv: list[str], env: dict, port: int, ready_path: str, first_path: str,
                 procs: Processes, raw: Path, cwd: Path | None = None) -> None:
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.ready_path, self.first_path = ready_path, first_path
        self.procs, self.raw, self.cwd = procs, raw, cwd
        self.proc: subprocess.Popen | None = None
        self.startup: dict = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> dict:
        t0 = time.monotonic()
        self.proc = self.procs.start(self.name, self.argv, env=self.env, log_path=self.raw / f"{self.name}.log", cwd=self.cwd)
        live = wait_for(self.base + self.ready_path, self.proc, timeout=60)
        first = wait_for(self.base + self.first_path, self.proc, timeout=30) if live is not None else None
        if live is None or first is None:
            raise RuntimeError(f"{self.name} did not answer 200 on {self.first_path}; see {self.raw / (self.name + '.log')}")
        self.startup = {"to_ready_s": round(live, 3), "to_first_read_s": round(time.monotonic() - t0, 3)}
        return self.startup

    def stop(self) -> None:
        if self.proc is not None:
            self.procs.stop(self.proc)
            self.proc = None


# ---------------------------------------------------------------- wrk

def run_wrk(url: str, kind: str, path: str, ids: tuple[int, int] | None, connections: int, seconds: float,
            tag: str, raw_log: Path | None = None) -> dict:
    env = clean_env()
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


# ---------------------------------------------------------------- report

def machine_info() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem_kb = status_line("/proc/meminfo", "MemTotal")
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "os": os_release(),
            "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip(),
            "mariadb": subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout.strip(),
            "redis": subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip(),
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].strip()}


def status_line(path: str, key: str) -> int:
    for line in open(path):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def os_release() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except FileNotFoundError:
        pass
    return platform.platform()


def git_commit() -> str:
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return (sha or "unknown") + ("-dirty" if dirty else "")


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def socket_errors(point: dict) -> int:
    e = point["errors"]
    return e["connect"] + e["read"] + e["write"] + e["timeout"]


def markdown(report: dict) -> str:
    out = []
    m = report["machine"]
    out.append(f"# CustomerRecords benchmark — {report['date']}\n")
    out.append(f"- Commit: `{report['commit']}`; rows: {report['rows']:,}; {report['duration_s']} s per point after a "
               f"{report['warmup_s']} s warm-up; connections: {', '.join(map(str, report['connections']))}; wrk threads: min(2, connections)")
    out.append(f"- Machine: {m['cpus']} × {m['cpu_model']}, {m['memory_gib']} GiB, kernel {m['kernel']}, {m['os']}; "
               f".NET SDK {m['dotnet']}; {m['mariadb'].split(' for ')[0]}; {m['redis'].split(' sha=')[0]}; {m['wrk']}")
    out.append("- wrk, the service, MariaDB (and Redis) share the same cores: absolute numbers are a floor, the ratios are the point.")
    if report.get("repeat", 1) > 1:
        out.append(f"- Each point ran {report['repeat']} rounds, alternating with the other scenarios of its block; "
                   "req/s, latency and CPU are the best round's (least disturbed by the rest of the machine), "
                   "errors are summed over all rounds, RSS is the highest of all rounds.")
    load = report.get("load", {})
    if load:
        out.append(f"- Bulk load of {load['rows']:,} rows: migrate {load['migrate_s']} s, generate {load['generate_s']} s, "
                   f"LOAD DATA {load['load_s']} s, tutorial copy {load['tutorial_copy_s']} s")
    if report.get("notes"):
        for note in report["notes"]:
            out.append(f"- {note}")
    out.append("")

    out.append("## Summary\n")
    out.append(summary_table(report))
    out.append("")

    out.append("## Targets\n")
    out.append("| Target | Measured | Result |")
    out.append("|---|---|---|")
    for t in report["targets"]:
        out.append(f"| {t['target']} | {t['measured']} | {t['result']} |")
    out.append("")

    out.append("## Ratios (requests/s)\n")
    conns = report["connections"]
    out.append("| Ratio | " + " | ".join(f"{c} conn" for c in conns) + " |")
    out.append("|---|" + "---|" * len(conns))
    for r in report["ratios"]:
        out.append(f"| {r['name']} | " + " | ".join(r["values"].get(str(c), "n/a") for c in conns) + " |")
    out.append("")

    out.append("## Start-up (process start → first 200)\n")
    out.append("| Program | /health/live (or first route) s | first read s |")
    out.append("|---|---|---|")
    for name, s in report["startups"]:
        out.append(f"| {name} | {s['to_ready_s']} | {s['to_first_read_s']} |")
    out.append("")

    out.append("## Scenarios\n")
    out.append("non-2xx: responses with status ≥ 400 as wrk counts them; socket errors: connect/read/write errors and "
               "timeouts (2 s). CPU: % of one core over the measured run (200% = both cores); CPU µs/req: the server's "
               "CPU time per response (steadier than req/s when the machine is shared); others: CPU the rest of "
               "the machine used meanwhile (noise: anything well above 0 means the point shared the cores with "
               "unrelated work). RSS: highest VmRSS sampled every 0.25 s during the run; peak: VmHWM since the "
               "process started.\n")
    for sc in report["scenarios"]:
        out.append(f"### {sc['title']} (`{sc['name']}`)\n")
        if sc.get("note"):
            out.append(sc["note"] + "\n")
        out.append("| conns | req/s | p50 ms | p99 ms | non-2xx | socket errors | server CPU % | CPU µs/req | db CPU % | wrk CPU % | others CPU % | RSS MB | peak RSS MB |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in sc["points"]:
            if "skipped" in p:
                out.append(f"| {p['connections']} | skipped: {p['skipped']} | | | | | | | | | | | |")
                continue
            out.append(f"| {p['connections']} | {p['rps']:,.0f} | {ms(p['latency_us']['p50'])} | {ms(p['latency_us']['p99'])} | "
                       f"{p['errors']['status']:,} | {socket_errors(p):,} | {p['cpu_pct']['server']} | {p['server_cpu_us_per_req']} | {p['cpu_pct']['db']} | "
                       f"{p['wrk_cpu_pct']} | {p['others_cpu_pct']} | "
                       f"{p['rss_mb']} | {p['peak_rss_mb']} |")
        out.append("")
    return "\n".join(out) + "\n"


def successes_per_s(p: dict) -> float:
    """Responses below 400 per second, over every round of the point (errors are counted over all rounds)."""
    requests = p.get("requests_all_rounds", p["requests"])
    duration = p.get("duration_us_all_rounds", p["duration_us"])
    return (requests - p["errors"]["status"]) / (duration / 1e6) if duration else 0.0


def summary_table(report: dict) -> str:
    """One row per scenario: requests/s at each concurrency, p99 and errors."""
    conns = report["connections"]
    head = ("| Scenario | " + " | ".join(f"req/s @{c}" for c in conns) + " | " + " | ".join(f"p99 ms @{c}" for c in conns)
            + " | errors (non-2xx + socket) |")
    lines = [head, "|---|" + "---:|" * (2 * len(conns) + 1)]
    for sc in report["scenarios"]:
        pts = {p["connections"]: p for p in sc["points"] if "skipped" not in p}
        rps = [f"{pts[c]['rps']:,.0f}" if c in pts else "" for c in conns]
        p99 = [ms(pts[c]["latency_us"]["p99"]) if c in pts else "" for c in conns]
        errors = sum(p["errors"]["status"] + socket_errors(p) for p in pts.values())
        total = sum(p.get("requests_all_rounds", p["requests"]) + socket_errors(p) for p in pts.values())
        err = f"{errors:,}" + (f" ({100 * errors / total:.0f}%)" if errors and total else "")
        lines.append(f"| {sc['title']} | " + " | ".join(rps) + " | " + " | ".join(p99) + f" | {err} |")
    return "\n".join(lines)


def evaluate(report: dict) -> None:
    by = {sc["name"]: {p["connections"]: p for p in sc["points"] if "skipped" not in p} for sc in report["scenarios"]}
    conns = report["connections"]
    top = 64 if 64 in conns else max(conns)

    def rps(name: str, c: int) -> float | None:
        return by.get(name, {}).get(c, {}).get("rps")

    def ratio(a: str, b: str, c: int) -> float | None:
        x, y = rps(a, c), rps(b, c)
        return x / y if x is not None and y else None

    ratios = []
    for label, a, b in [("Our cached read / bare JSON", "get_cached", "ref_json"),
                        ("Our cached read (Redis mode) / bare JSON", "get_cached_redis", "ref_json"),
                        ("Our database read / bare database endpoint", "get_db", "ref_db"),
                        ("Ours / tutorial app: GET /read/{id}", "t_read", "tut_read"),
                        ("Ours / tutorial app: PUT /update/{id}", "t_update", "tut_update"),
                        ("Ours / tutorial app: POST /create", "t_create", "tut_create")]:
        values = {str(c): f"{r:.2f}" for c in conns if (r := ratio(a, b, c)) is not None}
        if values:
            ratios.append({"name": label, "values": values})
    # CPU per response moves less than requests/s when the machine is shared.
    for label, a, b in [("Server CPU per request: our cached read / bare JSON", "get_cached", "ref_json"),
                        ("Server CPU per request: our database read / bare database endpoint", "get_db", "ref_db")]:
        values = {}
        for c in conns:
            pa, pb = by.get(a, {}).get(c), by.get(b, {}).get(c)
            if pa and pb and pa.get("server_cpu_us_per_req") and pb.get("server_cpu_us_per_req"):
                values[str(c)] = f"{pa['server_cpu_us_per_req'] / pb['server_cpu_us_per_req']:.2f}"
        if values:
            ratios.append({"name": label, "values": values})
    # Successful responses only: the tutorial app's error pages are fast but are not answers.
    good = {}
    for a, b in [("t_read", "tut_read"), ("t_update", "tut_update"), ("t_create", "tut_create")]:
        values = {}
        for c in conns:
            pa, pb = by.get(a, {}).get(c), by.get(b, {}).get(c)
            if pa and pb:
                ga, gb = successes_per_s(pa), successes_per_s(pb)
                if gb >= 1 and ga / gb < 100:
                    values[str(c)] = f"{ga / gb:.2f}"
                else:  # a ratio over a near-zero denominator says less than the two numbers
                    values[str(c)] = f"{ga:,.0f} vs {gb:,.1f} per s"
        if values:
            good[a] = values
    for a, label in [("t_read", "GET /read/{id}"), ("t_update", "PUT /update/{id}"), ("t_create", "POST /create")]:
        if a in good:
            ratios.append({"name": f"Ours / tutorial app, successful responses/s: {label}", "values": good[a]})
    report["ratios"] = ratios

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    targets = []
    r = ratio("get_cached", "ref_json", top)
    targets.append({"target": f"Cached read by id ≥ 60% of bare JSON req/s at {top} connections",
                    "measured": f"{r:.0%}" if r is not None else "n/a", "result": verdict(None if r is None else r >= 0.60)})
    r = ratio("get_db", "ref_db", top)
    targets.append({"target": f"Database read by id ≥ 80% of bare database endpoint req/s at {top} connections",
                    "measured": f"{r:.0%}" if r is not None else "n/a", "result": verdict(None if r is None else r >= 0.80)})

    total_errors, worst = 0, []
    for name in sorted(OURS):
        for c, p in by.get(name, {}).items():
            n = p["errors"]["status"] + socket_errors(p)
            total_errors += n
            if n:
                worst.append(f"{name}@{c}: {n}")
    measured = "0" if total_errors == 0 else f"{total_errors} ({', '.join(worst[:6])})"
    any_ours = any(by.get(n) for n in OURS)
    targets.append({"target": "Zero errors (non-2xx + socket) in every scenario of ours, at every concurrency",
                    "measured": measured, "result": verdict(None if not any_ours else total_errors == 0)})

    p99s = []
    for name in ("get_cached", "get_cached_redis", "get_db", "t_read"):
        p = by.get(name, {}).get(16)
        if p:
            p99s.append((name, p["latency_us"]["p99"]))
    targets.append({"target": "p99 ≤ 10 ms at 16 connections for reads by id",
                    "measured": ", ".join(f"{n} {ms(v)} ms" for n, v in p99s) or "n/a",
                    "result": verdict(None if not p99s else all(v <= 10000 for _, v in p99s))})

    first, deep = by.get("list_first", {}).get(1), by.get("list_deep", {}).get(1)
    if first and deep:
        q = deep["latency_us"]["p50"] / first["latency_us"]["p50"]
        others = []
        for c in conns:
            f2, d2 = by["list_first"].get(c), by["list_deep"].get(c)
            if f2 and d2 and c != 1:
                others.append(f"{c} conn {d2['latency_us']['p50'] / f2['latency_us']['p50']:.2f}×")
        depth_note = "" if report["rows"] >= 1_000_000 else f" (table of {report['rows']:,} rows, not 1,000,000)"
        targets.append({"target": "Page deep in 1,000,000 rows within 1.5× the first page's time (p50, 1 connection)",
                        "measured": f"{q:.2f}× ({ms(deep['latency_us']['p50'])} vs {ms(first['latency_us']['p50'])} ms)"
                                    + (f"; {', '.join(others)}" if others else "") + depth_note,
                        "result": verdict(q <= 1.5) + ("" if report["rows"] >= 1_000_000 else " (smaller table)")})
    else:
        targets.append({"target": "Page deep in 1,000,000 rows within 1.5× the first page's time", "measured": "n/a", "result": "n/a"})

    rss = [(name, c, p["rss_mb"]) for name in OURS for c, p in by.get(name, {}).items()]
    if rss:
        name, c, top_rss = max(rss, key=lambda x: x[2])
        reads = [x for x in rss if x[0] in READ_ONLY]
        read_note = ""
        if reads:
            rn, rc, rtop = max(reads, key=lambda x: x[2])
            read_note = f"; read-only scenarios: {rtop} MB ({rn} at {rc} conn)"
        targets.append({"target": "Steady-state RSS ≤ 250 MB under load (highest VmRSS sampled in any scenario of ours)",
                        "measured": f"{top_rss} MB ({name} at {c} conn){read_note}", "result": verdict(top_rss <= 250)})
    starts = [(n, s["to_first_read_s"]) for n, s in report["startups"] if n.startswith("service")]
    if starts:
        worst_start = max(starts, key=lambda x: x[1])
        targets.append({"target": "Start-up to first successful request ≤ 1.5 s (worst start, GET /customers/1)",
                        "measured": ", ".join(f"{n} {v:.2f} s" for n, v in starts), "result": verdict(worst_start[1] <= 1.5)})
    report["targets"] = targets


# ---------------------------------------------------------------- main

def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="CustomerRecords benchmark")
    p.add_argument("--rows", type=int, default=100_000, help="customers to load (default 100000)")
    p.add_argument("--duration", type=float, default=15, help="seconds measured per point (default 15)")
    p.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per point (default 5, quick 1)")
    p.add_argument("--connections", default="1 16 64", help='concurrency levels (default "1 16 64")')
    p.add_argument("--scenarios", default="", help="comma/space separated scenario names (default: all); "
                   + ", ".join(s[0] for s in SCENARIOS))
    p.add_argument("--quick", action="store_true", help="smoke run: 10,000 rows, 3 s per point, 1 s warm-up")
    p.add_argument("--buffer-pool", default="1G", help="MariaDB innodb_buffer_pool_size (default 1G)")
    p.add_argument("--tutorial-app", default=str(REPO.parent / "shared" / "reference" / "tutorial_app.py"))
    p.add_argument("--label", default="", help="suffix for the result file names (e.g. before, after)")
    p.add_argument("--no-save", action="store_true", help="print the report but write nothing under bench/results/")
    p.add_argument("--repeat", type=int, default=1, help="rounds per point, alternating within a block; the "
                   "best round's req/s and latency are reported, errors summed over all rounds (default 1)")
    p.add_argument("--hold", type=float, default=0, help="start everything, measure nothing, stop after this many "
                   "seconds (for profiling by hand)")
    p.add_argument("--startups", type=int, default=3, help="extra start-up measurements of the service (default 3)")
    args = p.parse_args(argv)
    if args.quick:
        if "--rows" not in argv:
            args.rows = 10_000
        if "--duration" not in argv:
            args.duration = 3
    if args.warmup is None:
        args.warmup = 1 if args.quick else 5
    args.connections = [int(c) for c in args.connections.replace(",", " ").split()]
    names = [s for s in args.scenarios.replace(",", " ").split() if s]
    known = {s[0] for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    args.selected = [s for s in SCENARIOS if not names or s[0] in names]
    return args


README_START, README_END = "<!-- latest results: start -->", "<!-- latest results: end -->"


def update_readme(report: dict, text: str, md_name: str) -> None:
    """Quotes the run's summary, targets and ratios in bench/README.md, between the markers."""
    readme = BENCH / "README.md"
    content = readme.read_text()
    if README_START not in content or README_END not in content:
        return
    keep = text.split("## Start-up", 1)[0]  # header, summary, targets, ratios
    keep = keep.split("\n", 1)[1].strip()  # drop the report's own title
    block = (f"{README_START}\n_From [`results/{md_name}`](results/{md_name}) — every scenario's full table, "
             f"CPU and memory are there._\n\n{keep.replace('## ', '### ')}\n{README_END}")
    head, rest = content.split(README_START, 1)
    readme.write_text(head + block + rest.split(README_END, 1)[1])


def render(path: Path) -> int:
    """Re-writes the Markdown of a saved run (after a change to the report layout)."""
    report = json.loads(path.read_text())
    report["startups"] = [tuple(s) for s in report["startups"]]
    evaluate(report)
    text = markdown(report)
    path.with_suffix(".md").write_text(text)
    latest = RESULTS / "latest.md"
    if "-quick" not in path.name:
        latest.write_text(text)
        update_readme(report, text, path.with_suffix(".md").name)
    print(text)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--render"]:
        return render(Path(argv[1]))
    args = parse_args(argv)
    procs = Processes()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    stamp = dt.datetime.now(dt.timezone.utc)
    commit = git_commit()
    run_id = stamp.strftime("%Y-%m-%dT%H%MZ") + f"-{commit}" + (f"-{args.label}" if args.label else "")
    raw = RESULTS / "raw" / run_id
    raw.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="customerrecords-bench-"))
    log(f"run {run_id}; work dir {work}; raw logs {raw}")
    try:
        return run(args, procs, work, raw, stamp, commit, run_id)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def run(args, procs: Processes, work: Path, raw: Path, stamp: dt.datetime, commit: str, run_id: str) -> int:
    targets_needed = {s[1] for s in args.selected}
    tutorial_app = Path(args.tutorial_app)
    notes = []
    if "tutorial" in targets_needed and not tutorial_app.exists():
        notes.append(f"Tutorial app not found at {tutorial_app}: its scenarios were skipped.")
        args.selected = [s for s in args.selected if s[1] != "tutorial"]
        targets_needed.discard("tutorial")

    log("building Release (service and reference)")
    api_dir, ref_dir = work / "api", work / "ref"
    for project, out in [(REPO / "src" / "CustomerRecords.Api", api_dir), (BENCH / "Reference", ref_dir)]:
        result = subprocess.run(["dotnet", "publish", str(project), "-c", "Release", "-o", str(out), "--nologo"],
                                env=clean_env(), capture_output=True, text=True)
        (raw / f"publish-{project.name}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"dotnet publish {project.name} failed; see {raw}")
    api_dll, ref_dll = api_dir / "CustomerRecords.Api.dll", ref_dir / "Reference.dll"

    log(f"starting MariaDB (buffer pool {args.buffer_pool})")
    db = MariaDB(procs, work, args.buffer_pool)
    db.start()
    redis = None
    if "svc_redis" in targets_needed:
        log("starting Redis")
        redis = Redis(procs, work)
        redis.start()

    log(f"loading {args.rows:,} customers")
    load = load_data(db, api_dll, work, args.rows, raw)
    log(f"loaded: {load}")

    id_ranges = {"all": (1, args.rows), "hot": (1, min(HOT_IDS, args.rows)), "mix": (1, min(MIX_IDS, args.rows))}
    deep_after = max(1, args.rows - 100)
    deep_path = f"/customers?limit=50&sort=id&after={deep_cursor(deep_after)}"

    def make_target(kind: str) -> Target:
        port = free_port()
        if kind.startswith("svc_"):
            mode = {"svc_none": "None", "svc_memory": "Memory", "svc_redis": "Redis"}[kind]
            return Target(f"service-{mode.lower()}", ["dotnet", str(api_dll)], service_env(db, mode, redis, port), port,
                          "/health/live", "/customers/1", procs, raw, cwd=api_dir)
        if kind == "ref":
            env = clean_env()
            env.update({"ASPNETCORE_URLS": f"http://127.0.0.1:{port}", "ASPNETCORE_ENVIRONMENT": "Production",
                        "Logging__LogLevel__Default": "Warning", "ConnectionStrings__Customers": db.connection_string("customers")})
            return Target("reference", ["dotnet", str(ref_dll)], env, port, "/json", "/db/1", procs, raw, cwd=ref_dir)
        env = clean_env()
        env.update({"DB_HOST": "127.0.0.1", "DB_PORT": str(db.port), "DB_USER": DB_USER, "DB_PASSWORD": DB_PASSWORD,
                    "DB_NAME": "tutorial", "LISTEN_HOST": "127.0.0.1", "LISTEN_PORT": str(port)})
        return Target("tutorial-app", ["/usr/bin/python3", str(tutorial_app)], env, port, "/read/1", "/read/1", procs, raw)

    startups: list[tuple[str, dict]] = []
    if args.startups > 0 and any(t.startswith("svc_") for t in targets_needed):
        for i in range(args.startups):
            t = make_target("svc_memory")
            s = t.start()
            t.stop()
            startups.append((f"service-memory (start {i + 1})", s))
            log(f"start-up: {s}")

    # The long-lived programs are all started first (one at a time, each start timed) and stay up, idle
    # when not measured; then comparable scenarios run back to back at each concurrency, so a ratio is
    # never taken across minutes of changing background load.
    targets: dict[str, Target] = {}
    for kind in ["ref", "svc_none", "svc_memory", "svc_redis"]:
        if kind in targets_needed:
            targets[kind] = make_target(kind)
            startups.append((targets[kind].name, targets[kind].start()))
            log(f"{targets[kind].name} up: {targets[kind].startup}")

    if args.hold:
        # For profiling by hand: everything up, nothing measured, stopped after --hold seconds.
        for kind, t in targets.items():
            log(f"holding {t.name}: {t.base} pid {t.proc.pid}")
        log(f"MariaDB 127.0.0.1:{db.port} (socket {db.socket}); deep page path {deep_path}; holding {args.hold:.0f} s")
        time.sleep(args.hold)
        return 0

    by_name = {s[0]: s for s in args.selected}
    results: dict[str, dict] = {}
    for block in BLOCKS:
        block = [n for n in block if n in by_name]
        for c in args.connections:
            rounds: dict[str, list[dict]] = {}
            for rnd in range(args.repeat):
                for name in block:
                    _, kind, wrk_kind, path, ids_key, title = by_name[name]
                    path = deep_path if path == "DEEP" else path
                    ids = id_ranges[ids_key] if ids_key else None
                    sc = results.setdefault(name, {"name": name, "title": title, "kind": wrk_kind, "path": path,
                                                   "ids": list(ids) if ids else None, "points": []})
                    notes_sc = []
                    if name == "list_deep":
                        notes_sc.append(f"Cursor after id {deep_after:,} of {args.rows:,} (sort=id, limit 50).")
                    if ids_key:
                        notes_sc.append(f"Ids uniform in {ids[0]:,}–{ids[1]:,}.")
                    if kind == "tutorial":
                        notes_sc.append("The app is restarted before each point (a broken shared connection stays "
                                        "broken); no warm-up.")
                    sc["note"] = " ".join(notes_sc)
                    target = targets.get(kind)
                    if kind == "tutorial":
                        target = make_target(kind)
                        target.start()
                    try:
                        point = measure(target, db, redis, name, wrk_kind, path, ids, c, args, raw,
                                        warm=kind != "tutorial" and rnd == 0)
                    finally:
                        if kind == "tutorial":
                            target.stop()
                    rounds.setdefault(name, []).append(point)
                    log(f"{name} @{c}" + (f" round {rnd + 1}" if args.repeat > 1 else "")
                        + f": {point['rps']:,.0f} req/s, p50 {ms(point['latency_us']['p50'])} ms, "
                        f"p99 {ms(point['latency_us']['p99'])} ms, non-2xx {point['errors']['status']}, "
                        f"socket {socket_errors(point)}, cpu {point['cpu_pct']['server']}%, rss {point['rss_mb']} MB, "
                        f"others {point['others_cpu_pct']}%")
            for name, points in rounds.items():
                results[name]["points"].append(combine_rounds(points))
    for target in targets.values():
        target.stop()
    scenarios_out = list(results.values())

    # Failures no client saw (e.g. a request whose client had already gone) show only in the logs.
    for log_file in sorted(raw.glob("service-*.log")):
        counts = {level: 0 for level in ("crit", "fail", "warn")}
        for line in open(log_file, errors="replace"):
            for level in counts:
                if f"{level}: " in line[:40]:
                    counts[level] += 1
        if any(counts.values()):
            notes.append(f"Server log {log_file.name}: " + ", ".join(f"{n} {lvl}" for lvl, n in counts.items() if n)
                         + " (see bench/results/raw/)")

    order_names = [s[0] for s in SCENARIOS]
    scenarios_out.sort(key=lambda sc: order_names.index(sc["name"]))
    report = {
        "date": stamp.strftime("%Y-%m-%d %H:%M UTC"), "run_id": run_id, "commit": commit, "machine": machine_info(),
        "rows": args.rows, "duration_s": args.duration, "warmup_s": args.warmup, "connections": args.connections,
        "load": load, "startups": startups, "repeat": args.repeat, "scenarios": scenarios_out, "notes": notes,
        "settings": {"service": "Release publish, ASPNETCORE_ENVIRONMENT=Production, Logging:LogLevel:Default=Warning, RateLimit:Enabled=false, "
                                "Cache:CacheHeader=false", "mariadb_buffer_pool": args.buffer_pool,
                     "hot_ids": HOT_IDS, "mix_ids": MIX_IDS},
    }
    evaluate(report)
    text = markdown(report)
    print(text)
    if not args.no_save:
        name = stamp.strftime("%Y-%m-%d") + f"-{commit}" + (f"-{args.label}" if args.label else "") + ("-quick" if args.quick else "")
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)
        if not args.quick:
            (RESULTS / "latest.md").write_text(text)
            update_readme(report, text, f"{name}.md")
        log(f"wrote bench/results/{name}.json and .md" + ("" if args.quick else " and latest.md"))
    return 0


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
                       "others_cpu_pct": p["others_cpu_pct"]} for p in points]
    return best


def measure(target: Target, db: MariaDB, redis: Redis | None, name: str, kind: str, path: str, ids, connections: int, args,
            raw: Path, warm: bool) -> dict:
    tag = f"{name.replace('_', '')}{connections}x{int(time.time() * 1000) % 10_000_000}"
    probe = path if kind in ("fixed",) else (path + str(ids[0]) if kind in ("get", "mix") else None)
    if probe is not None:
        status = http_status(target.base + probe)
        if status != 200:
            log(f"warning: {name}: GET {probe} answered {status} before the run")
    if warm and args.warmup > 0:
        run_wrk(target.base, kind, path, ids, connections, args.warmup, tag + "w", raw / f"{name}.wrk.log")
    pids = {"server": target.proc.pid, "db": db.proc.pid}
    if redis is not None:
        pids["redis"] = redis.proc.pid
    with Sampler(pids) as sampler:
        point = run_wrk(target.base, kind, path, ids, connections, args.duration, tag, raw / f"{name}.wrk.log")
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


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); everything started was stopped")
        sys.exit(130)
    except RuntimeError as e:
        log(f"failed: {e}")
        sys.exit(1)
