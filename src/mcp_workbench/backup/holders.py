"""Which processes hold a file open: a restore must not swap a database under a running server.

On Linux every process's open files are links under ``/proc/PID/fd``: we read them (without
root, only our own user's processes are visible; the server normally runs as the user who
restores). Elsewhere (macOS, the BSDs) we ask ``lsof`` when it is installed. When neither
works the answer is "unknown", and the restore refuses unless it is forced.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LSOF_TIMEOUT_S = 30


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    path: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})"


class CannotCheck(Exception):
    """This platform gives no way to see which processes hold a file."""


def holders(paths: Iterable[Path]) -> list[Holder]:
    """Processes other than this one holding any of ``paths`` open; raises :class:`CannotCheck`."""
    wanted = {str(p.resolve()) for p in paths}
    if sys.platform.startswith("linux") and PROC.is_dir():
        return _from_proc(wanted)
    return _from_lsof(wanted)


def _from_proc(wanted: set[str]) -> list[Holder]:
    found: list[Holder] = []
    me = os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or another user's process
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in wanted:
                found.append(Holder(int(entry.name), _command_of(entry), target))
                break
    return found


def _command_of(proc_dir: Path) -> str:
    try:
        raw = (proc_dir / "cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:200] or "?"


def _from_lsof(wanted: set[str]) -> list[Holder]:
    lsof = shutil.which("lsof")
    if lsof is None:
        raise CannotCheck("this platform has no /proc and lsof is not installed")
    existing = sorted(p for p in wanted if Path(p).exists())
    if not existing:
        return []
    try:
        proc = subprocess.run(
            [lsof, "-F", "pcn", "--", *existing],
            capture_output=True,
            text=True,
            timeout=LSOF_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CannotCheck(f"lsof failed: {exc}") from None
    if proc.returncode not in (0, 1):  # 1: nothing holds them
        raise CannotCheck(f"lsof failed: {proc.stderr.strip()[:200]}")
    return parse_lsof(proc.stdout, os.getpid())


def parse_lsof(output: str, me: int) -> list[Holder]:
    """Holders from ``lsof -F pcn`` output (p: pid, c: command, n: file name lines)."""
    found: dict[int, Holder] = {}
    pid, command = 0, "?"
    for line in output.splitlines():
        tag, value = line[:1], line[1:]
        if tag == "p":
            pid, command = int(value), "?"
        elif tag == "c":
            command = value
        elif tag == "n" and pid and pid != me and pid not in found:
            found[pid] = Holder(pid, command, value)
    return list(found.values())
