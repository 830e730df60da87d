"""Proves the throwaway-PostgreSQL plugin (tests/support/postgres.py) works."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import asyncpg
import pytest

if TYPE_CHECKING:  # imported lazily so pytest can assertion-rewrite the plugin module
    from tests.support.postgres import PostgresServer

# Harmless if tests/conftest.py already loads the plugin (pytest registers it once).
pytest_plugins = ["tests.support.postgres"]

pytestmark = pytest.mark.anyio


def test_urls_point_at_loopback(postgres_server: PostgresServer, postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    assert parts.scheme == "postgresql"
    assert parts.hostname == "127.0.0.1"
    assert parts.port == postgres_server.port
    assert parts.username == "postgres"
    assert parts.path == "/workbench"
    # listens on 127.0.0.1 only, with its socket inside its own temp dir
    assert postgres_server.psql("SHOW listen_addresses") == "127.0.0.1"
    assert postgres_server.psql("SHOW unix_socket_directories") == str(postgres_server.socket_dir)
    assert postgres_server.psql("SHOW fsync") == "off"
    if os.geteuid() == 0:
        assert postgres_server.data_dir.stat().st_uid != 0  # never runs as root


async def test_connects_and_creates_a_table(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS fixture_probe (id int PRIMARY KEY, name text)")
        await conn.execute("INSERT INTO fixture_probe VALUES (1, 'one') ON CONFLICT DO NOTHING")
        assert await conn.fetchval("SELECT name FROM fixture_probe WHERE id = 1") == "one"
        assert await conn.fetchval("SELECT current_database()") == "workbench"
    finally:
        await conn.close()


_fixture_databases: list[str] = []
# the second reads what the first saw: one worker runs both, in order
_IN_ORDER = pytest.mark.xdist_group("per-test-database")


@_IN_ORDER
async def test_per_test_database_is_fresh(postgres_db_url: str, postgres_server: PostgresServer) -> None:
    name = urlsplit(postgres_db_url).path.lstrip("/")
    assert name.startswith("wb_")
    _fixture_databases.append(name)
    conn = await asyncpg.connect(postgres_db_url)
    try:
        assert await conn.fetchval("SELECT current_database()") == name
        tables = await conn.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables == 0
        await conn.execute("CREATE TABLE t (x int)")
    finally:
        await conn.close()
    assert name in postgres_server.psql("SELECT datname FROM pg_database").split()


@_IN_ORDER
def test_per_test_database_was_dropped(postgres_server: PostgresServer) -> None:
    if not _fixture_databases:
        pytest.skip("runs after test_per_test_database_is_fresh")
    names = postgres_server.psql("SELECT datname FROM pg_database").split()
    assert not set(_fixture_databases) & set(names)


def test_drop_database_closes_open_connections(postgres_server: PostgresServer) -> None:
    import anyio

    url = postgres_server.create_database("wb_drop_probe")

    async def hold_connection_while_dropping() -> None:
        conn = await asyncpg.connect(url)
        try:
            # WITH (FORCE): a connection left open by a test does not block the drop
            await anyio.to_thread.run_sync(postgres_server.drop_database, "wb_drop_probe")
        finally:
            conn.terminate()

    anyio.run(hold_connection_while_dropping)
    names = postgres_server.psql("SELECT datname FROM pg_database").split()
    assert "wb_drop_probe" not in names


async def test_stop_and_restart_keeps_port_and_data(postgres_server: PostgresServer, postgres_db_url: str) -> None:
    port = postgres_server.port
    conn = await asyncpg.connect(postgres_db_url)
    await conn.execute("CREATE TABLE survives (v text)")
    await conn.execute("INSERT INTO survives VALUES ('kept')")

    postgres_server.stop_server()  # immediate: like a crash, open connections break
    assert not postgres_server.is_running()
    with pytest.raises((asyncpg.PostgresError, OSError, asyncpg.InterfaceError)):
        await conn.fetchval("SELECT 1")
    conn.terminate()
    with pytest.raises(OSError):
        await asyncpg.connect(postgres_db_url, timeout=5)

    postgres_server.start_server()
    assert postgres_server.is_running()
    assert postgres_server.port == port
    conn = await asyncpg.connect(postgres_db_url)
    try:
        assert await conn.fetchval("SELECT v FROM survives") == "kept"
    finally:
        await conn.close()

    postgres_server.restart()  # graceful stop + start
    conn = await asyncpg.connect(postgres_db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM survives") == 1
    finally:
        await conn.close()


def test_plain_python_usage() -> None:
    """The class works without pytest fixtures, and cleans up after itself."""
    from tests.support.postgres import PostgresNotAvailable, PostgresServer

    server = PostgresServer(database="standalone")
    try:
        server.binaries  # noqa: B018 - raises PostgresNotAvailable when not installed
    except PostgresNotAvailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    with server as pg:
        base = pg.base_dir
        assert pg.url.endswith("/standalone")
        assert pg.psql("SELECT current_database()", database="standalone") == "standalone"
        with socket.create_connection(("127.0.0.1", pg.port), timeout=5):
            pass
    assert base is not None and not base.exists()
    assert not server.is_running()
