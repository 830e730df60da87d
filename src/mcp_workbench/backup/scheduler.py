"""Scheduled backups while the server runs (``[backup] interval``), and their metrics.

The server's lifespan starts it (``startup``) and ends it (``aclose``), like a capability's
resources. The next backup is due one interval after the newest archive in the output
directory, so a restart neither skips a backup nor takes an extra one; a failed attempt is
retried after ``min(interval, 5 min)``. The backup modules load with the first backup, so a
server's start-up does not pay for them. Several processes sharing the directory (``--workers``,
a cron job) take turns through the directory's lock: a process that finds it held leaves that
round to the holder.

``/metrics`` gets, at scrape time:
- ``workbench_last_backup_timestamp_seconds``: when the newest archive in the directory was
  taken (whoever took it; 0 while there is none);
- ``workbench_backup_failures_total`` and ``workbench_backups_total``: this process's attempts;
- ``workbench_backup_interval_seconds``, ``workbench_last_backup_duration_seconds`` and
  ``workbench_last_backup_size_bytes``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

from mcp_workbench.backup.plan import Plan
from mcp_workbench.platform.errors import WorkbenchError
from mcp_workbench.platform.metrics import Sample

log = logging.getLogger("mcp_workbench.backup")
RETRY_S = 300.0


class BackupScheduler:
    """Takes a backup of ``plan`` every ``interval`` seconds; the composition root runs
    ``startup`` and ``aclose`` in the server's lifespan and reads ``samples`` at scrape time."""

    def __init__(self, plan: Plan, interval: float) -> None:
        self.plan = plan
        self.interval = interval
        self.output = plan.output
        self.failures = 0
        self.successes = 0
        self.last_duration_s = 0.0
        self.last_size = 0
        self._task: asyncio.Task[None] | None = None
        self._newest: float | None = None

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduled-backups")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def newest(self) -> float | None:
        """When the newest archive in the output directory was taken, if there is one. A directory
        that cannot be read (the very failure the metrics must report) answers what was last seen."""
        from mcp_workbench.backup.archive import archive_time, archives_in

        try:
            archives = archives_in(self.output)
        except OSError:
            return self._newest
        self._newest = archive_time(archives[-1]) if archives else None
        return self._newest

    def _due_in(self) -> float:
        newest = self.newest()
        return 0.0 if newest is None else max(0.0, newest + self.interval - time.time())

    async def _run(self) -> None:
        delay = await asyncio.to_thread(self._due_in)
        while True:
            await asyncio.sleep(delay)
            delay = await self.run_once()

    async def run_once(self) -> float:
        """Take one backup now; return the delay until the next attempt."""
        from mcp_workbench.backup.backup import take_backup
        from mcp_workbench.backup.work import Busy

        try:
            result = await take_backup(self.plan, wait_for_lock_s=0)
        except Busy:
            log.info("another process is taking a backup; this one skips its turn", extra={"output": str(self.output)})
            return self.interval
        except Exception as exc:  # the schedule's boundary: count, log, try again later
            self.failures += 1
            log.error(
                "scheduled backup failed",
                extra={"output": str(self.output), "error": str(exc), "retry_in_s": min(self.interval, RETRY_S)},
                exc_info=not isinstance(exc, WorkbenchError | OSError),
            )
            return min(self.interval, RETRY_S)
        self.successes += 1
        self.last_duration_s = result.seconds
        self.last_size = result.size
        dumps_left_out = [s for s in result.manifest.skipped if s.kind == "postgresql"]
        log.log(
            logging.WARNING if dumps_left_out else logging.INFO,
            "backup written" + (" without some PostgreSQL sources" if dumps_left_out else ""),
            extra={
                "archive": str(result.path),
                "bytes": result.size,
                "duration_s": round(result.seconds, 3),
                "skipped": [f"{s.name}: {s.reason}" for s in result.manifest.skipped],
                "removed": [p.name for p in result.pruned],
            },
        )
        return self.interval

    def samples(self) -> Iterator[Sample]:
        yield Sample(
            "last_backup_timestamp_seconds",
            "When the newest backup archive in the output directory was taken (Unix time; 0: none yet).",
            self.newest() or 0.0,
        )
        yield Sample("backup_failures_total", "Scheduled backups that failed in this process.", self.failures,
                     kind="counter")  # fmt: skip
        yield Sample("backups_total", "Scheduled backups written by this process.", self.successes, kind="counter")
        yield Sample("backup_interval_seconds", "The configured time between scheduled backups.", self.interval)
        yield Sample("last_backup_duration_seconds", "How long this process's last backup took.", self.last_duration_s)
        yield Sample("last_backup_size_bytes", "Size of this process's last backup archive.", self.last_size)
