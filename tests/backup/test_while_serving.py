"""Backups while the server serves: one taken during a stream of writes holds every write
acknowledged before it began, and the server's own schedule writes, prunes, retries and reports."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from fastmcp import Client
from prometheus_client.parser import text_string_to_metric_families

from mcp_workbench.backup.archive import archive_time, archives_in
from mcp_workbench.backup.scheduler import RETRY_S, BackupScheduler
from mcp_workbench.backup.sqlite import integrity_problems
from mcp_workbench.backup.work import NICENESS, acquire_lock, blocking, release_lock
from mcp_workbench.backup_plan import plan_for
from mcp_workbench.server import build_server
from mcp_workbench.settings import load_settings
from tests.backup.helpers import CLI, cli, rows_of
from tests.support.servers import HttpServer, clean_env, get, wait_until

pytestmark = pytest.mark.anyio


async def test_a_backup_during_a_stream_of_writes_holds_every_write_acknowledged_before_it(
    tmp_path: Path, era: str
) -> None:
    data = tmp_path / "data"
    settings = load_settings(None, data_dir=data, limits={"default": "100000/minute"})
    acknowledged: list[int] = []
    async with Client(build_server(settings), mode=era) as client:
        made = await client.call_tool_mcp("data_write", {"operation": "create_table", "table": "events", "columns": [
            {"name": "id", "type": "integer", "primary_key": True}, {"name": "body", "type": "text"}]})  # fmt: skip
        assert not made.is_error
        stop = asyncio.Event()

        async def write() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                rows = [{"id": n, "body": "e" * 500}]
                done = await client.call_tool_mcp(
                    "data_write", {"operation": "insert", "table": "events", "rows": rows}
                )
                assert not done.is_error, done.content
                acknowledged.append(n)

        writer = asyncio.create_task(write())
        deadline = time.monotonic() + 60
        while len(acknowledged) < 200:
            if writer.done():
                writer.result()  # its failure, if it failed
            assert time.monotonic() < deadline, "the writer stalled"
            await asyncio.sleep(0.01)
        before = set(acknowledged)  # every one of these answered before the backup started
        proc = await asyncio.create_subprocess_exec(
            *CLI, "backup", env=clean_env(data), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
        during = len(acknowledged) - len(before)
        stop.set()
        await writer
    assert proc.returncode == 0, err.decode()
    assert during > 0, "the writes went on while the backup ran"
    archive = Path(out.decode().strip().splitlines()[-1])

    fresh = tmp_path / "restored"
    done = await asyncio.to_thread(cli, "restore", archive, data_dir=fresh)
    assert done.returncode == 0, done.stderr
    restored = {row[0] for row in await asyncio.to_thread(rows_of, fresh / "workspace.db", "events")}
    assert before <= restored <= set(acknowledged)
    assert await asyncio.to_thread(integrity_problems, fresh / "workspace.db") == []


def metrics_of(base: str) -> dict[str, float]:
    status, _, body = get(f"{base}/metrics")
    assert status == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name.startswith(("workbench_backup", "workbench_last_backup"))
    }


def test_the_server_takes_backups_on_its_schedule_keeps_the_newest_and_reports_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "c.toml"
    config.write_text('[backup]\ninterval = "1s"\nkeep = 2\n', encoding="utf-8")
    server = HttpServer(["--no-auth", "--config", str(config)], data).start()
    try:
        wait_until(
            lambda: metrics_of(server.base).get("workbench_backups_total", 0) >= 3, "three backups", timeout_s=90
        )
        metrics = metrics_of(server.base)
    finally:
        server.stop()
    archives = archives_in(data / "backups")
    assert len(archives) == 2
    assert metrics["workbench_backup_failures_total"] == 0 and metrics["workbench_backup_interval_seconds"] == 1
    assert archive_time(archives[0]) <= metrics["workbench_last_backup_timestamp_seconds"] <= time.time()
    assert metrics["workbench_last_backup_size_bytes"] > 0
    assert "config/config.toml" in cli("backup", "verify", archives[-1], data_dir=data).stdout  # the file it runs with
    assert '"msg": "backup written"' in server.stderr_text()


def test_failed_backups_are_counted_logged_and_retried(tmp_path: Path) -> None:
    data = tmp_path / "data"
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the output directory should be", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(f'[backup]\ninterval = "1s"\noutput = "{blocked}"\n', encoding="utf-8")
    server = HttpServer(["--no-auth", "--config", str(config)], data).start()
    try:
        wait_until(
            lambda: metrics_of(server.base).get("workbench_backup_failures_total", 0) >= 2, "two failures", timeout_s=90
        )
        metrics = metrics_of(server.base)
    finally:
        server.stop()
    assert metrics["workbench_backups_total"] == 0 and metrics["workbench_last_backup_timestamp_seconds"] == 0
    assert '"msg": "scheduled backup failed"' in server.stderr_text()


async def test_the_schedule_continues_from_the_newest_archive_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings(None, data_dir=data, backup={"interval": "1h"})
    scheduler = BackupScheduler(plan_for(settings), 3600)
    assert scheduler._due_in() == 0  # nothing yet: take one at once
    assert await scheduler.run_once() == 3600 and scheduler.successes == 1
    restarted = BackupScheduler(plan_for(settings), 3600)
    assert 3500 < restarted._due_in() <= 3600  # the newest archive is fresh: no extra backup


async def test_a_process_that_finds_another_backing_up_skips_its_turn(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings(None, data_dir=data, backup={"interval": "10s"})
    scheduler = BackupScheduler(plan_for(settings), 10)
    scheduler.output.mkdir(parents=True)
    held = acquire_lock(scheduler.output, wait_s=0)  # another process is writing an archive
    try:
        assert await scheduler.run_once() == 10
    finally:
        release_lock(held)
    assert (scheduler.successes, scheduler.failures, archives_in(scheduler.output)) == (0, 0, [])
    assert await scheduler.run_once() == 10 and scheduler.successes == 1


async def test_a_failed_attempt_is_retried_within_five_minutes(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    settings = load_settings(None, data_dir=tmp_path / "data", backup={"interval": "6h", "output": blocked})
    scheduler = BackupScheduler(plan_for(settings), 6 * 3600)
    assert await scheduler.run_once() == RETRY_S and scheduler.failures == 1


async def test_backup_work_runs_at_a_lower_cpu_priority_than_the_server() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("a per-thread nice value is Linux's")
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = await blocking(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert worker == here + NICENESS
