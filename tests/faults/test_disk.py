"""The SQLite workspace's storage fills up, or turns read-only, under a real HTTP server.

Each time: a clear error (UPSTREAM_ERROR or READ_ONLY, with recovery steps), the data written
before is intact (``PRAGMA integrity_check`` = ok, the rows are there), the server keeps serving,
and once the storage is usable again the next write works without a restart.

How the faults are made, in order of preference (the first this machine permits):

- full disk: a 4 MB tmpfs mounted for the test (needs CAP_SYS_ADMIN, e.g. root in a VM or a
  privileged container) and filled up: SQLite sees ENOSPC, exactly a full disk. Otherwise the
  server runs with ``RLIMIT_FSIZE`` (any user): writes past the limit fail with EFBIG, which
  SQLite reports as an I/O error: a different errno on the same code path. (``PRAGMA
  max_page_count`` cannot stand in: it is a setting of one connection, not of the file, so a
  test cannot set it for the server's connections.)
- read-only storage: a tmpfs remounted read-only (a remount is refused while the server holds
  files open for writing, so the server is restarted onto it, as after a crash that left the
  disk read-only); else ``chattr +i`` (root with CAP_LINUX_IMMUTABLE on ext4/xfs/btrfs); else,
  for a non-root user, removing write permission (root ignores permissions, so that is no fault
  for root). Where none of these is possible the test fails and says so: it cannot make the
  fault, and configuring the source ``read_only = true`` would test the configuration, not the
  file system.

``WORKBENCH_TEST_STORAGE_FAULT`` picks one means (``rlimit`` for the full disk; ``chattr`` or
``chmod`` for read-only storage) to check a fallback on a machine that permits the first choice.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastmcp import Client

from tests.fuzz.wire import HttpPeer
from tests.support.config_file import write_config
from tests.support.servers import get
from tests.support.session import tool_payload
from tests.support.timeouts import SUBPROCESSES

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

COLUMNS = [{"name": "id", "type": "integer", "primary_key": True}, {"name": "body", "type": "text"}]
EARLIER = [{"id": i, "body": f"row {i}"} for i in range(5)]
FSIZE_LIMIT = 1_000_000
STORAGE_ERRORS = {"UPSTREAM_ERROR", "READ_ONLY"}
FORCED = os.environ.get("WORKBENCH_TEST_STORAGE_FAULT", "")


def _run(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False, timeout=60).returncode == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    """Mount a tmpfs at ``path`` if this machine lets us; yields whether it did."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = (
        FORCED not in ("rlimit", "chattr", "chmod")
        and shutil.which("mount") is not None
        and _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    )
    try:
        yield mounted
    finally:
        if mounted:
            _run("umount", str(path)) or _run("umount", "-l", str(path))


def _file_rows(db: Path) -> tuple[str, int]:
    """Integrity and row count, read without writing (``immutable``: nothing else writes now)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute("SELECT count(*) FROM t").fetchone()[
            0
        ]


def _assert_storage_error(result: object, what: str) -> dict:
    error = tool_payload(result)
    assert getattr(result, "is_error", False), f"{what} succeeded on broken storage: {error}"
    assert error["error_code"] in STORAGE_ERRORS, error
    assert error["recovery_steps"] and all(isinstance(step, str) and step for step in error["recovery_steps"]), error
    return error


async def _seed(url: str) -> None:
    async with Client(url) as client:
        made = await client.call_tool_mcp("data_write", {"operation": "create_table", "table": "t", "columns": COLUMNS})
        assert not made.is_error, tool_payload(made)
        added = await client.call_tool_mcp("data_write", {"operation": "insert", "table": "t", "rows": EARLIER})
        assert not added.is_error, tool_payload(added)


async def test_a_full_disk_gives_a_clear_error_keeps_earlier_data_and_writes_resume_when_space_returns(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "small", "4m") as mounted:
        if mounted:
            data, preexec, big = tmp_path / "small" / "data", None, [{"id": 100, "body": "y" * 400_000}]
        else:

            def preexec() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))

            data, big = tmp_path / "data", [{"id": 100, "body": "y" * 600_000}, {"id": 101, "body": "z" * 600_000}]
        server = HttpPeer("legacy", data, log_dir=tmp_path / "logs", preexec=preexec).start()
        filler = tmp_path / "small" / "filler"
        try:
            await _seed(f"{server.base}/mcp")
            if mounted:  # take every free block
                with filler.open("wb") as out, contextlib.suppress(OSError):
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
            async with Client(f"{server.base}/mcp") as client:
                refused = await client.call_tool_mcp("data_write", {"operation": "insert", "table": "t", "rows": big})
                error = _assert_storage_error(refused, "a write on a full disk")
                assert error["retryable"] is True, error
                counted = tool_payload(await client.call_tool_mcp("data_read", {"operation": "count", "table": "t"}))
                assert counted["count"] == len(EARLIER), counted  # the server serves on; nothing was half-written
                assert _file_rows(data / "workspace.db") == ("ok", len(EARLIER))
                filler.unlink(missing_ok=True)
                fits = [{"id": 200, "body": "small"}]
                resumed = await client.call_tool_mcp("data_write", {"operation": "insert", "table": "t", "rows": fits})
                assert not resumed.is_error, tool_payload(resumed)
        finally:
            filler.unlink(missing_ok=True)
            code = server.stop()
        assert code == 0, server.stderr_text()[-3000:]
        assert _file_rows(data / "workspace.db") == ("ok", len(EARLIER) + 1)


@contextlib.contextmanager
def read_only_storage(storage: Path, mounted: bool) -> Iterator[tuple[str, Callable[[], None]]]:
    """Make ``storage`` read-only by the first means this machine permits; yields the means and a
    function that makes it writable again (also called on exit)."""
    files = [storage, *storage.rglob("*")]
    if mounted and _run("mount", "-o", "remount,ro", str(storage.parent)):
        how, undo = "tmpfs remounted read-only", lambda: _run("mount", "-o", "remount,rw", str(storage.parent))
    elif FORCED != "chmod" and shutil.which("chattr") and _run("chattr", "+i", *map(str, files)):
        how, undo = "chattr +i", lambda: _run("chattr", "-i", *map(str, files))
    elif os.geteuid() != 0 or FORCED == "chmod":
        modes = {path: stat.S_IMODE(path.stat().st_mode) for path in files}
        for path, mode in modes.items():
            path.chmod(mode & ~0o222)

        def undo() -> bool:
            for path, mode in modes.items():
                path.chmod(mode)
            return True

        how = "write permission removed"
    else:
        pytest.fail(
            "cannot make storage read-only here: running as root (permissions do not bind root) without "
            "CAP_SYS_ADMIN (tmpfs remount) or CAP_LINUX_IMMUTABLE on a file system with chattr; run the "
            "tests as a non-root user or in a privileged container",
            pytrace=False,
        )
    try:
        yield how, lambda: None if undo() else pytest.fail(f"could not undo: {how}")
    finally:
        undo()


async def test_read_only_storage_gives_a_clear_error_keeps_data_and_writes_resume_without_a_restart(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk", "16m") as mounted:
        storage = (tmp_path / "disk" if mounted else tmp_path / "plain") / "data"
        first = HttpPeer("legacy", storage, log_dir=tmp_path / "logs-1").start()
        try:
            await _seed(f"{first.base}/mcp")
        finally:
            assert first.stop() == 0, first.stderr_text()[-3000:]
        scratch = tmp_path / "scratch"
        config = write_config(
            tmp_path / "ro.toml", {"data": {"sources": {"scratch": {"url": f"sqlite:///{scratch / 's.db'}"}}}}
        )
        with read_only_storage(storage, mounted) as (how, make_writable):
            server = HttpPeer("legacy", storage, args=["--config", str(config)], log_dir=tmp_path / "logs-2").start()
            try:
                async with Client(f"{server.base}/mcp") as client:
                    write = {"operation": "insert", "table": "t", "rows": [{"id": 50, "body": "new"}]}
                    _assert_storage_error(await client.call_tool_mcp("data_write", write), f"a write ({how})")
                    read = await client.call_tool_mcp("data_read", {"operation": "count", "table": "t"})
                    if read.is_error:  # a WAL database cannot be opened on read-only storage at all
                        _assert_storage_error(read, "")
                        status, _, body = get(f"{server.base}/readyz")
                        assert status == 503 and "database:workspace" in json.loads(body)["failing"], body
                    else:
                        assert tool_payload(read)["count"] == len(EARLIER)
                    # the server serves on: the other source works
                    made = await client.call_tool_mcp(
                        "data_write",
                        {"operation": "create_table", "source": "scratch", "table": "s", "columns": COLUMNS},
                    )
                    assert not made.is_error, tool_payload(made)
                    make_writable()
                    resumed = await client.call_tool_mcp("data_write", write)
                    assert not resumed.is_error, (
                        f"after the storage became writable again ({how}): {tool_payload(resumed)}"
                    )
                    counted = tool_payload(
                        await client.call_tool_mcp("data_read", {"operation": "count", "table": "t"})
                    )
                    assert counted["count"] == len(EARLIER) + 1
            finally:
                code = server.stop()
            assert code == 0, server.stderr_text()[-3000:]
        assert _file_rows(storage / "workspace.db") == ("ok", len(EARLIER) + 1)
