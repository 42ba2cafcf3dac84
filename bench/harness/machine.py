"""What the report records about the machine it ran on and the commit it measured."""

from __future__ import annotations

import os
import platform
import subprocess

from .common import REPO


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
