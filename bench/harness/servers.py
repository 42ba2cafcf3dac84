"""The processes a run starts: MariaDB, Redis and the programs under test (the service, the reference
program, the tutorial app). Each is started, checked and stopped here."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .common import BENCH, DB_PASSWORD, DB_USER, REPO, clean_env, free_port


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


def http_status(url: str, timeout: float = 2.0, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
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

    def status(self) -> dict[str, int]:
        """The server's global counters (SHOW GLOBAL STATUS) that say what a write costs the database."""
        names = ", ".join(f"'{n}'" for n in DB_COUNTERS)
        out = self.sql(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})").stdout
        return {k: int(v) for k, v in (line.split("\t") for line in out.splitlines() if line.strip())}

    def variables(self) -> dict[str, str]:
        """The settings that decide what a commit costs (durability, binary log), as the report records them."""
        out = self.sql("SELECT @@innodb_flush_log_at_trx_commit, @@log_bin, @@sync_binlog, @@innodb_doublewrite, "
                       "@@innodb_flush_method, @@tx_isolation").stdout.split("\t")
        keys = ["innodb_flush_log_at_trx_commit", "log_bin", "sync_binlog", "innodb_doublewrite", "innodb_flush_method",
                "transaction_isolation"]
        return dict(zip(keys, (v.strip() for v in out)))

    def connection_string(self, database: str) -> str:
        return f"Server=127.0.0.1;Port={self.port};Database={database};User ID={DB_USER};Password={DB_PASSWORD};SslMode=None"


BASE_DATABASE = "customers_base"  # the baseline build's own database, migrated by its own migrate command

# Statements and durable flushes per request (MariaDB's own counters, read before and after each point).
DB_COUNTERS = ["Questions", "Com_select", "Com_insert", "Com_update", "Com_begin", "Com_commit", "Com_rollback",
               "Innodb_os_log_fsyncs", "Innodb_os_log_written", "Innodb_log_writes", "Innodb_data_fsyncs",
               "Innodb_row_lock_waits", "Innodb_row_lock_time"]


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


def service_env(db: MariaDB, cache_mode: str, redis: Redis | None, port: int, database: str = "customers") -> dict:
    env = clean_env()
    env.update({
        "ASPNETCORE_URLS": f"http://127.0.0.1:{port}",
        "ASPNETCORE_ENVIRONMENT": "Production",
        "Logging__LogLevel__Default": "Warning",
        "Database__Provider": "mysql",
        "Database__SeedSampleData": "false",
        "ConnectionStrings__Customers": db.connection_string(database),
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


# SQLite: the service's file and the reference's own copy (so their writes never contend for one lock), and the
# baseline build's file; all in the run's work dir (api_dir.parent), holding the same rows (data.load_sqlite).
def sqlite_paths(work: Path) -> dict[str, Path]:
    return {k: work / "sqlite" / f"{k}.db" for k in ("service", "reference", "baseline")}


def sqlite_env(env: dict, path: Path) -> dict:
    """service_env() switched to SQLite on `path`."""
    return env | {"Database__Provider": "sqlite", "ConnectionStrings__Customers": f"Data Source={path}"}


class Target:
    """One program under test: started, checked, stopped."""

    def __init__(self, name: str, argv: list[str], env: dict, port: int, ready_path: str, first_path: str,
                 procs: Processes, raw: Path, cwd: Path | None = None) -> None:
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.ready_path, self.first_path = ready_path, first_path
        self.procs, self.raw, self.cwd = procs, raw, cwd
        self.proc: subprocess.Popen | None = None
        self.startup: dict = {}
        self.api_key = ""  # sent as X-Api-Key by every request of its scenarios (svc_keyed)

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


def publish_baseline(commit: str, work: Path, raw: Path) -> tuple[Path, str]:
    """The service as of another commit: checked out with `git worktree add --detach` into the work
    directory, published Release, the checkout removed again. Its output directory and short commit."""
    src = work / "baseline-src"
    short = subprocess.run(["git", "rev-parse", "--short", commit + "^{commit}"], cwd=REPO, capture_output=True, text=True)
    if short.returncode != 0:
        raise RuntimeError(f"--baseline-commit {commit}: not a commit of this repository")
    added = subprocess.run(["git", "worktree", "add", "--detach", str(src), commit], cwd=REPO, capture_output=True, text=True)
    if added.returncode != 0:
        raise RuntimeError(f"git worktree add {commit} failed: {added.stderr.strip()}")
    out = work / "api-base"
    try:
        result = subprocess.run(["dotnet", "publish", str(src / "src" / "CustomerRecords.Api"), "-c", "Release", "-o", str(out),
                                 "--nologo"], env=clean_env(), capture_output=True, text=True)
        (raw / "publish-baseline.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"dotnet publish of the baseline {commit} failed; see {raw / 'publish-baseline.log'}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(src)], cwd=REPO, capture_output=True)
    return out, short.stdout.strip()


def publish(work: Path, raw: Path) -> tuple[Path, Path]:
    """dotnet publish -c Release of the service and of the reference program; their output directories."""
    api_dir, ref_dir = work / "api", work / "ref"
    for project, out in [(REPO / "src" / "CustomerRecords.Api", api_dir), (BENCH / "Reference", ref_dir)]:
        result = subprocess.run(["dotnet", "publish", str(project), "-c", "Release", "-o", str(out), "--nologo"],
                                env=clean_env(), capture_output=True, text=True)
        (raw / f"publish-{project.name}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"dotnet publish {project.name} failed; see {raw}")
    return api_dir, ref_dir


def make_target(kind: str, db: MariaDB, redis: Redis | None, procs: Processes, raw: Path, api_dir: Path,
                ref_dir: Path, tutorial_app: Path, base_dir: Path | None = None, extra_env: dict | None = None) -> Target:
    """The program behind a scenario's target: "svc_none", "svc_memory", "svc_redis", "svc_sqlite", "ref" or "tutorial";
    "base_svc_*" is the baseline build (--baseline-commit) on its own database, customers_base (or SQLite file)."""
    api_dll, ref_dll = api_dir / "CustomerRecords.Api.dll", ref_dir / "Reference.dll"
    port = free_port()
    sqlite = sqlite_paths(api_dir.parent)
    if kind == "base_svc_sqlite":
        assert base_dir is not None
        return Target("baseline-service-sqlite", ["dotnet", str(base_dir / "CustomerRecords.Api.dll")],
                      sqlite_env(service_env(db, "None", None, port), sqlite["baseline"]), port, "/health/live",
                      "/customers/1", procs, raw, cwd=base_dir)
    if kind == "svc_sqlite":
        env = sqlite_env(service_env(db, "None", None, port), sqlite["service"]) | (extra_env or {})
        return Target("service-sqlite", ["dotnet", str(api_dll)], env, port, "/health/live", "/customers/1", procs, raw,
                      cwd=api_dir)
    if kind.startswith("base_svc_"):
        assert base_dir is not None
        mode = {"svc_none": "None", "svc_memory": "Memory", "svc_redis": "Redis"}[kind[len("base_"):]]
        return Target(f"baseline-service-{mode.lower()}", ["dotnet", str(base_dir / "CustomerRecords.Api.dll")],
                      service_env(db, mode, redis, port, BASE_DATABASE), port, "/health/live", "/customers/1", procs, raw,
                      cwd=base_dir)
    if kind == "svc_keyed":
        # The memory-cache service with one API key configured (scope customers:read), so authentication and
        # authorization run on every request: what they cost next to open mode (svc_memory), which runs neither.
        key = "crk_" + secrets.token_urlsafe(32)
        digest = base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).rstrip(b"=").decode()
        env = service_env(db, "Memory", redis, port) | (extra_env or {}) | {
            "Auth__ApiKeys__0__Name": "bench", "Auth__ApiKeys__0__Hash": "sha256:" + digest,
            "Auth__ApiKeys__0__Scopes__0": "customers:read"}
        target = Target("service-keyed", ["dotnet", str(api_dll)], env, port, "/health/live", "/health/ready", procs,
                        raw, cwd=api_dir)
        target.api_key = key
        return target
    if kind.startswith("svc_"):
        mode = {"svc_none": "None", "svc_memory": "Memory", "svc_redis": "Redis"}[kind]
        env = service_env(db, mode, redis, port) | (extra_env or {})
        return Target(f"service-{mode.lower()}", ["dotnet", str(api_dll)], env, port,
                      "/health/live", "/customers/1", procs, raw, cwd=api_dir)
    if kind == "ref":
        env = clean_env()
        env.update({"ASPNETCORE_URLS": f"http://127.0.0.1:{port}", "ASPNETCORE_ENVIRONMENT": "Production",
                    "Logging__LogLevel__Default": "Warning", "ConnectionStrings__Customers": db.connection_string("customers")})
        if sqlite["reference"].exists():  # the /sqlite endpoints are mapped only with this
            env["ConnectionStrings__Sqlite"] = f"Data Source={sqlite['reference']}"
        return Target("reference", ["dotnet", str(ref_dll)], env, port, "/json", "/db/1", procs, raw, cwd=ref_dir)
    env = clean_env()
    env.update({"DB_HOST": "127.0.0.1", "DB_PORT": str(db.port), "DB_USER": DB_USER, "DB_PASSWORD": DB_PASSWORD,
                "DB_NAME": "tutorial", "LISTEN_HOST": "127.0.0.1", "LISTEN_PORT": str(port)})
    return Target("tutorial-app", ["/usr/bin/python3", str(tutorial_app)], env, port, "/read/1", "/read/1", procs, raw)
