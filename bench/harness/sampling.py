"""CPU time and memory of the processes under test, sampled from /proc during a measured run."""

from __future__ import annotations

import os
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


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
