"""What the kernel knows about a process tree: CPU seconds, resident memory, the machine's load.

Server CPU is read from ``/proc/<pid>/stat`` (utime + stime, plus cutime + cstime for
children already reaped) summed over the whole tree below the server, so work a server hands
to helper processes (the workbench's search workers, readabilipy's node) counts as its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses; fields after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except FileNotFoundError:
            continue
        found.extend(int(p) for p in text.split())
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children(current))
    return out


def cpu_by_process(pid: int) -> dict[int, float]:
    """CPU seconds of each live process in the tree below ``pid`` (reaped children not included)."""
    out: dict[int, float] = {}
    for member in tree(pid):
        fields = _stat_fields(member)
        if fields is not None:
            out[member] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the tree below ``pid``, reaped children included."""
    total = 0
    for member in tree(pid):
        fields = _stat_fields(member)
        if fields is None:
            continue
        # After the command name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / TICK


@dataclass
class Memory:
    rss_mb: float  # the server process itself
    tree_rss_mb: float  # the process and its helpers, shared pages counted in each
    tree_pss_mb: float  # the same with shared pages split between processes: the honest sum
    processes: int


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, PermissionError):
        pass
    return 0


def memory(pid: int) -> Memory:
    members = tree(pid)
    return Memory(
        rss_mb=_status_kb(pid, "VmRSS") / 1024,
        tree_rss_mb=sum(_status_kb(p, "VmRSS") for p in members) / 1024,
        tree_pss_mb=sum(_pss_kb(p) for p in members) / 1024,
        processes=len(members),
    )


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def busy_fraction(sample_s: float = 1.0) -> float:
    """Share of all CPUs busy over ``sample_s`` (from /proc/stat): what else is running here."""
    import time

    def snap() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle

    total0, idle0 = snap()
    time.sleep(sample_s)
    total1, idle1 = snap()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)
