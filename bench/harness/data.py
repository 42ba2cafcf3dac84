"""The rows: generated in the service's table layout, bulk-loaded for the service and the tutorial app."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import sqlite3
import struct
import subprocess
import time
from pathlib import Path

from .common import free_port
from .servers import MariaDB, service_env, sqlite_env

FIRST_NAMES = ["Ada", "Alan", "Barbara", "Claude", "Dennis", "Edsger", "Frances", "Grace", "Hedy", "Ivan",
               "Jean", "Ken", "Linus", "Margaret", "Niklaus", "Ole", "Radia", "Sophie", "Tim", "Yukihiro"]
LAST_NAMES = ["Allen", "Backus", "Cerf", "Dijkstra", "Engelbart", "Floyd", "Goldberg", "Hopper", "Iverson",
              "Jones", "Knuth", "Lamport", "McCarthy", "Naur", "Ousterhout", "Perlis", "Ritchie", "Stroustrup",
              "Thompson", "Wirth", "Liskov", "Hamilton", "Kay", "Lovelace", "Turing"]



def bench_person(i: int) -> tuple[str, str, str | None]:
    """Row i's name, email and phone (None: no phone) for the main harness: deterministic, every 5th without a phone."""
    first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
    phone = None if i % 5 == 0 else f"+1-555-{i % 10000:04d}"
    return f"{first} {last}", f"{first.lower()}.{last.lower()}.{i}@example.com", phone


def customer_rows(rows: int, person=bench_person):
    """Rows 1..rows in the service's table layout (id, name, email, phone or None, created_at, updated_at, version,
    email_key, name_key), email_key/name_key computed here; person(i) gives row i's name, email and phone, its
    created_at/updated_at is a base time + i seconds."""
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(1, rows + 1):
        name, email, phone = person(i)
        stamp = (base + dt.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.000000")
        yield i, name, email, phone, stamp, stamp, 1, email.lower(), name.lower()


def write_rows(path: Path, rows: int, person=bench_person) -> None:
    """customer_rows() as tab-separated lines (a missing phone is \\N), for LOAD DATA."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        lines = []
        for row in customer_rows(rows, person):
            lines.append("\t".join(chr(92) + "N" if v is None else str(v) for v in row) + "\n")
            if len(lines) == 50000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


def migrate(api_dll: Path, env: dict, log_path: Path) -> None:
    """Runs that build's own `migrate` command with env (its database settings), output to log_path."""
    result = subprocess.run(["dotnet", str(api_dll), "migrate"], env=env, capture_output=True, text=True, cwd=api_dll.parent)
    log_path.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"migration failed (see {log_path})")


def load_data(db: MariaDB, api_dll: Path, work: Path, rows: int, raw: Path, database: str = "customers",
              tutorial: bool = True) -> dict:
    """Migrates `database` with that build's own migrate command and loads the rows; also the tutorial
    app's copy unless tutorial=False (the baseline build's database)."""
    t0 = time.monotonic()
    db.sql(f"CREATE DATABASE IF NOT EXISTS {database};")
    migrate(api_dll, service_env(db, "None", None, free_port(), database),
            raw / ("migrate.log" if database == "customers" else f"migrate-{database}.log"))
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
        SET SESSION unique_checks = 1;""", database=database, local_infile=True)
    t_load = time.monotonic() - t0 - t_migrate - t_generate
    if not tutorial:
        db.sql("SET GLOBAL innodb_flush_log_at_trx_commit = 1;")
        tsv.unlink()
        check_count(db, database, rows)
        return {"rows": rows, "migrate_s": round(t_migrate, 2), "generate_s": round(t_generate, 2), "load_s": round(t_load, 2)}

    # The tutorial app's database: its own schema (as the tutorial wrote it), the same rows.
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
    check_count(db, database, rows)
    return {"rows": rows, "migrate_s": round(t_migrate, 2), "generate_s": round(t_generate, 2),
            "load_s": round(t_load, 2), "tutorial_copy_s": round(t_tutorial, 2)}


def load_sqlite(db: MariaDB, api_dll: Path, files: list[Path], work: Path, rows: int, raw: Path) -> dict:
    """files[0] migrated by that build's own migrate command and loaded with the rows MariaDB holds (customer_rows),
    in one transaction; then copied byte for byte to files[1:] (nothing has it open, its WAL checkpointed)."""
    t0 = time.monotonic()
    files[0].parent.mkdir(parents=True, exist_ok=True)
    migrate(api_dll, sqlite_env(service_env(db, "None", None, free_port()), files[0]),
            raw / f"migrate-sqlite-{files[0].stem}.log")
    t_migrate = time.monotonic() - t0

    connection = sqlite3.connect(files[0], isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT INTO customers (id, name, email, phone, created_at, updated_at, version, email_key, "
                               "name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", customer_rows(rows))
        connection.execute("COMMIT")
        counted = connection.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    if counted != rows:
        raise RuntimeError(f"loaded {counted} rows into {files[0]}, expected {rows}")
    for other in files[1:]:
        shutil.copyfile(files[0], other)
    return {"rows": rows, "migrate_s": round(t_migrate, 2), "load_s": round(time.monotonic() - t0 - t_migrate, 2)}


def check_count(db: MariaDB, database: str, rows: int) -> None:
    counted = int(db.sql("SELECT COUNT(*) FROM customers", database=database).stdout.strip())
    if counted != rows:
        raise RuntimeError(f"loaded {counted} rows into {database}, expected {rows}")


def deep_path(base_url: str, rows: int) -> tuple[str, str]:
    """A page deep in the table and how it was reached. Cursors are sealed by the service (AES-GCM under its
    key), so the harness cannot make one: it asks the service for the page of rows changed since the stamp of
    row rows-150 (``updated_since`` seeks the (updated_at, id) index; write_rows gives row i the stamp base + i s)
    and walks once to that page's ``next``, a real cursor 100 rows from the end of the index."""
    import json
    import urllib.parse
    import urllib.request
    stamp = (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=max(1, rows - 150))).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = f"limit=50&sort=updated_at&updated_since={urllib.parse.quote(stamp)}"
    with urllib.request.urlopen(f"{base_url}/customers?{query}", timeout=30) as response:
        cursor = json.load(response)["next"]
    if not cursor:
        raise RuntimeError(f"no page follows /customers?{query}: the table holds fewer rows than expected")
    return (f"/customers?{query}&after={urllib.parse.quote(cursor)}",
            f"Cursor 100 rows from the end of {rows:,} on the (updated_at, id) index (sort=updated_at, limit 50), issued by the service.")
