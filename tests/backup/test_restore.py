"""Restoring: a lost or corrupted workspace comes back, the replaced file is kept, a stale log is
never replayed into the restored file, and a database a running server holds is not swapped."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastmcp import Client

from mcp_workbench.backup.holders import Holder, _from_lsof, _from_proc, holders, parse_lsof
from mcp_workbench.backup.sqlite import integrity_problems
from mcp_workbench.settings import load_settings
from tests.backup.helpers import backup, cli, fill, pragma, rows_of
from tests.support.servers import HttpServer
from tests.support.tools import require


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    asyncio.run(fill(load_settings(None, data_dir=data), 500))
    return data


def _write_more(db: Path, ids: range) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.executemany("INSERT INTO notes VALUES (?, 'later')", [(i,) for i in ids])
    finally:
        conn.close()


def test_a_deleted_workspace_is_restored(data_dir: Path) -> None:
    db = data_dir / "workspace.db"
    expected = rows_of(db)
    archive = backup(data_dir)
    for path in data_dir.glob("workspace.db*"):
        path.unlink()

    done = cli("restore", archive, data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert f"restored  sources/workspace.sqlite.gz  ->  {db}" in done.stdout
    assert rows_of(db) == expected and integrity_problems(db) == []
    assert pragma(db, "journal_mode") == "wal"  # set back: the snapshot was stored with a rollback journal
    assert (db.stat().st_mode & 0o777) == 0o600


def test_a_corrupted_workspace_is_restored_and_the_corrupted_file_kept(data_dir: Path) -> None:
    db = data_dir / "workspace.db"
    expected = rows_of(db)
    archive = backup(data_dir)
    with db.open("r+b") as handle:  # garbage over the table's pages
        handle.seek(4096)
        handle.write(b"\xde\xad\xbe\xef" * 2048)
    corrupted = db.read_bytes()
    assert integrity_problems(db)

    done = cli("restore", archive, data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert rows_of(db) == expected and integrity_problems(db) == []
    kept = [p for p in data_dir.iterdir() if p.name.startswith("workspace.db.pre-restore-") and p.name[-1] == "Z"]
    assert [p.read_bytes() for p in kept] == [corrupted]
    assert f"safety copy: {kept[0]}" in done.stdout


def test_a_stale_log_beside_the_database_is_not_replayed_into_the_restored_file(data_dir: Path) -> None:
    """A -wal left by writes made after the backup belongs to the old file: restoring keeps it with
    the safety copy, where it still makes sense, and never applies it to the restored one."""
    db = data_dir / "workspace.db"
    expected = rows_of(db)
    archive = backup(data_dir)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA wal_autocheckpoint = 0")  # the later writes stay in the -wal
    holder.executemany("INSERT INTO notes VALUES (?, 'later')", [(i,) for i in range(10_000, 10_200)])
    wal = Path(f"{db}-wal")
    stale = wal.read_bytes()
    holder.close()  # the last connection checkpoints and removes its log ...
    wal.write_bytes(stale)  # ... and a crash would have left it: put it back

    done = cli("restore", archive, data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert rows_of(db) == expected and integrity_problems(db) == []
    safety = next(
        p for p in data_dir.iterdir() if p.name.startswith("workspace.db.pre-restore-") and "-" not in p.name[-4:]
    )
    assert Path(f"{safety}-wal").read_bytes() == stale
    assert len(rows_of(safety)) == len(expected) + 200  # the safety copy opens with its own log


def test_a_dry_run_verifies_and_checks_but_changes_nothing(data_dir: Path) -> None:
    db = data_dir / "workspace.db"
    archive = backup(data_dir)
    _write_more(db, range(10_000, 10_010))
    before = sorted(p.name for p in data_dir.iterdir())

    done = cli("restore", archive, "--dry-run", data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert f"would restore  sources/workspace.sqlite.gz  ->  {db}" in done.stdout
    assert "nothing was changed" in done.stdout
    assert sorted(p.name for p in data_dir.iterdir()) == before
    assert len(rows_of(db)) == 510


def test_restoring_one_source_leaves_the_key_store_alone(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "api_keys.json").write_text('{"keys": []}', encoding="utf-8")
    archive = backup(data_dir)
    (data_dir / "api_keys.json").write_text('{"keys": [], "changed": true}', encoding="utf-8")

    done = cli("restore", archive, "--source", "workspace", data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "keys/api_keys.json" not in done.stdout
    assert '"changed"' in (data_dir / "api_keys.json").read_text(encoding="utf-8")
    missing = cli("restore", archive, "--source", "nope", data_dir=data_dir)
    assert missing.returncode == 1 and "the archive holds no source 'nope'; sources in it: workspace" in missing.stderr


async def test_restore_is_refused_while_a_server_process_holds_the_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = HttpServer(["--no-auth"], data).start()
    try:
        async with Client(server.url) as client:  # the server opens the workspace and keeps it
            made = await client.call_tool_mcp("data_write", {"operation": "create_table", "table": "t", "columns": [
                {"name": "a", "type": "integer"}]})  # fmt: skip
            assert not made.is_error
            archive = await asyncio.to_thread(backup, data)  # a backup while serving is fine
            inserted = await client.call_tool_mcp(
                "data_write", {"operation": "insert", "table": "t", "rows": [{"a": 1}]}
            )
            assert not inserted.is_error
        assert server.proc is not None
        before = await asyncio.to_thread(rows_of, data / "workspace.db", "t")

        refused = await asyncio.to_thread(cli, "restore", archive, data_dir=data)

        assert refused.returncode == 1
        assert f"is held open by pid {server.proc.pid} (" in refused.stderr and "mcp_workbench serve" in refused.stderr
        assert "Stop the server" in refused.stderr
        assert await asyncio.to_thread(rows_of, data / "workspace.db", "t") == before == [(1,)]

        forced = await asyncio.to_thread(cli, "restore", archive, "--force", data_dir=data)
        assert forced.returncode == 0, forced.stderr
        assert f"warning: forced while held by pid {server.proc.pid}" in forced.stdout
        assert await asyncio.to_thread(rows_of, data / "workspace.db", "t") == []
    finally:
        server.stop()


@pytest.fixture
def holding_process(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Another process with a SQLite file open."""
    db = tmp_path / "held.db"
    sqlite3.connect(db).execute("CREATE TABLE t (a)").connection.close()
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT * FROM t');"
        "print('open', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    try:
        yield db, proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_holders_are_found_in_proc_and_by_lsof(holding_process: tuple[Path, int], tmp_path: Path) -> None:
    """Linux reads /proc; other platforms ask lsof: both name the same process."""
    db, pid = holding_process
    wanted = {str(db.resolve())}
    assert [h.pid for h in holders([db])] == [pid]
    assert [h.pid for h in _from_proc(wanted)] == [pid]
    require("lsof", debian_package="lsof")
    assert [h.pid for h in _from_lsof(wanted)] == [pid]
    assert holders([tmp_path / "nobody-holds-this"]) == []


def test_lsof_output_is_read_per_process_without_this_one() -> None:
    output = "p100\ncpython3\nn/data/workspace.db\nn/data/workspace.db-wal\np200\ncmcp-workbench\nn/data/workspace.db\n"
    assert parse_lsof(output, me=200) == [Holder(100, "python3", "/data/workspace.db")]


def test_a_restore_into_a_fresh_directory_needs_no_existing_file(data_dir: Path, tmp_path: Path) -> None:
    archive = backup(data_dir)
    fresh = tmp_path / "fresh"
    done = cli("restore", archive, data_dir=fresh)
    assert done.returncode == 0, done.stderr
    assert rows_of(fresh / "workspace.db") == rows_of(data_dir / "workspace.db")
    shutil.rmtree(fresh)


def test_the_config_file_is_restored_only_when_asked_and_unconfigured_sources_are_named(
    data_dir: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "extra.db"
    sqlite3.connect(extra).execute("CREATE TABLE t (a)").connection.close()
    config = tmp_path / "c.toml"
    archived = f'[data.sources.extra]\nurl = "sqlite:///{extra}"\n'
    config.write_text(archived, encoding="utf-8")
    archive = backup(data_dir, "--config", config)
    config.write_text('log_level = "DEBUG"\n', encoding="utf-8")  # 'extra' is no longer configured

    plain = cli("restore", archive, "--config", config, data_dir=data_dir)
    assert plain.returncode == 0, plain.stderr
    assert "note: not restored: source 'extra' is not configured here" in plain.stdout
    assert "add --with-config to restore it" in plain.stdout
    assert config.read_text(encoding="utf-8") == 'log_level = "DEBUG"\n'

    with_config = cli(
        "restore", archive, "--config", config, "--source", "workspace", "--with-config", data_dir=data_dir
    )
    assert with_config.returncode == 0, with_config.stderr
    assert config.read_text(encoding="utf-8") == archived
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("c.toml.pre-restore-")]
    assert [p.read_text(encoding="utf-8") for p in kept] == ['log_level = "DEBUG"\n']
