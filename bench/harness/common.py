"""Paths, database credentials and small helpers every part of the harness uses."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
LUA = BENCH / "lua" / "bench.lua"
RESULTS = BENCH / "results"
DB_USER = "bench"
DB_PASSWORD = "bench"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DB_", "ASPNETCORE_", "ConnectionStrings__", "Cache__", "Database__", "Logging__", "DOTNET_"))}
    env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1"
    env["DOTNET_NOLOGO"] = "1"
    return env
