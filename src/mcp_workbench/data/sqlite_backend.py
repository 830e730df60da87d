"""The SQLite side of a data source: its file, its two engines and the guards on their connections.

Reads and writes get separate engines. A read connection has ``PRAGMA query_only`` on, an
authorizer that refuses writes, ATTACH, non-introspection PRAGMAs and dangerous functions, a
cap on any value's length and on SQLite's heap (:mod:`~mcp_workbench.data.readbounds`); a
read-only source is also opened with ``mode=ro``. A write connection refuses ATTACH and the same
functions, and takes the write lock at BEGIN. Every connection carries a deadline that a
progress handler enforces: the statement time budget.

A single-statement read is its own transaction, run in one trip to the connection's thread
(:meth:`SqliteBackend.fetch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolResetState

from mcp_workbench.data.readbounds import Finish, ReadBounds, T, sqlite_rows
from mcp_workbench.data.settings import DataSettings
from mcp_workbench.platform.errors import NotFound

# PRAGMAs SQLAlchemy's reflection issues; everything else is refused on read connections.
_INTROSPECTION_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list", "table_list"}
)
# PRAGMAs that may be read (never set) on read connections; SQLAlchemy reads these on connect.
_READABLE_PRAGMAS = frozenset({"read_uncommitted", "query_only", "journal_mode", "data_version"})
_FORBIDDEN_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})
_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_PROGRESS_STEPS = 1000


class _Deadline:
    """Mutable per-connection deadline read by the SQLite progress handler (in aiosqlite's thread)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None

    def expired(self) -> int:
        return 1 if self.at is not None and time.monotonic() > self.at else 0


def _read_authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _INTROSPECTION_PRAGMAS or (name in _READABLE_PRAGMAS and arg2 is None):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _FORBIDDEN_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_TRANSACTION:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        return sqlite3.SQLITE_OK  # SQLite asks this while loading a virtual table's schema; query_only still holds
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def _write_authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _FORBIDDEN_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _fetch_once(
    db: sqlite3.Connection,
    deadline: _Deadline,
    sql: str,
    params: tuple[Any, ...],
    finish: Finish[T],
    *,
    budget: float,
    max_rows: int,
    bounds: ReadBounds,
) -> T:
    """In the connection's thread: one statement, its rows up to ``max_rows`` and within the
    page budget (:func:`sqlite_rows`), then ``finish`` over them (the page is built here too,
    off the event loop)."""
    mine = deadline.at = time.monotonic() + budget
    try:
        description, rows, cut = sqlite_rows(db, sql, params, max_rows, bounds)
    finally:
        if deadline.at == mine:  # a call that took over the connection meanwhile keeps its own
            deadline.at = None
    return finish([column[0] for column in description], rows, cut, [None] * len(description))


def _replace_closed(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """Pool checkout: a connection closed under the pool (a cancelled call) is replaced."""
    driver = record.driver_connection
    if driver is None or not driver._running or driver._connection is None:  # what aiosqlite itself checks
        raise sa_exc.DisconnectionError("the SQLite connection was closed")


def _roll_back_if_open(dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
    """Pool reset (``reset_on_return`` is off): roll back only a transaction left open."""
    if not state.asyncio_safe or state.transaction_was_reset:
        return
    driver = record.driver_connection
    if driver is not None and driver._running and driver._connection is not None and driver.in_transaction:
        dbapi_connection.rollback()


class SqliteBackend:
    """One SQLite source's file and engines (see the module docstring)."""

    driver = "sqlite+aiosqlite"
    shares_engine = False  # reads and writes have engines of their own
    # SQLite answers SELECT 1 without opening the file's pages; reading the schema shows the
    # file can really be read (a WAL file on read-only storage cannot)
    probe = "SELECT count(*) FROM sqlite_master"

    def __init__(self, name: str, url: URL, limits: DataSettings, bounds: ReadBounds, *, read_only: bool) -> None:
        self.name = name
        self.url = url
        self.limits = limits
        self.bounds = bounds
        self.read_only = read_only
        # Every connection opened, so none outlives the source: a call cancelled while a
        # connection was being checked out can leave one the pool never saw, and its worker
        # thread would keep the process from exiting.
        self._opened: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()

    @property
    def path(self) -> Path:
        return Path(self.url.database or "").expanduser().resolve()

    async def prepare(self, conn: AsyncConnection, *, read_only: bool) -> None:
        """Start the statement budget of a transaction (the progress handler enforces it)."""
        deadline = await _deadline_of(conn)
        deadline.at = time.monotonic() + self.limits.statement_timeout_s

    async def clear_deadline(self, conn: AsyncConnection) -> None:
        # a call cancelled mid-statement can leave its connection invalidated: nothing to clear
        if not conn.closed and not conn.invalidated:
            (await _deadline_of(conn)).at = None

    async def fetch(
        self, conn: AsyncConnection, sql: str, params: Sequence[Any], max_rows: int, finish: Finish[T]
    ) -> T:
        """One read-only statement on a read connection, in one trip to its thread (see
        :func:`_fetch_once`): no BEGIN/ROLLBACK trips, since a single statement is its own
        read transaction."""
        driver: aiosqlite.Connection = (await conn.get_raw_connection()).driver_connection  # type: ignore[assignment]  # Any | None in SQLAlchemy; set once checked out
        deadline: _Deadline = driver._workbench_deadline  # type: ignore[attr-defined]  # hung on it by connect()
        # aiosqlite's own way of running a function in the connection's thread
        return await driver._execute(  # type: ignore[no-untyped-call, no-any-return]  # aiosqlite's, unannotated
            _fetch_once,
            driver._conn,
            deadline,
            sql,
            tuple(params),
            finish,
            budget=self.limits.statement_timeout_s,
            max_rows=max_rows,
            bounds=self.bounds,
        )

    def create_engine(self, *, write: bool) -> AsyncEngine:
        """The read engine (``write=False``) or the write engine; the file is opened by the pool."""
        path = self.path
        read_only_file = self.read_only
        if not read_only_file:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.is_file():
            raise NotFound(
                f"the database file of source '{self.name}' does not exist",
                recovery_steps=["Ask the operator to fix this source's url in the configuration."],
                details={"source": self.name},
            )
        busy_ms = int(self.limits.statement_timeout_s * 1000)
        bounds = self.bounds

        async def connect() -> aiosqlite.Connection:
            target = f"file:{path}?mode=ro" if read_only_file else f"file:{path}"
            conn = aiosqlite.connect(target, uri=True, isolation_level=None, check_same_thread=False)
            self._opened.add(conn)
            await conn
            deadline = _Deadline()
            conn._workbench_deadline = deadline  # type: ignore[attr-defined]  # ours: fetch() and deadline_of() read it
            await conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
            await conn.execute("PRAGMA foreign_keys = ON")
            if write:
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.set_authorizer(_write_authorizer)
            else:
                # process-wide, and only ever lowered: the smallest bound of any source holds
                await conn.execute(f"PRAGMA soft_heap_limit = {bounds.heap_bytes // 2}")
                await conn.execute(f"PRAGMA hard_heap_limit = {bounds.heap_bytes}")
                await conn._execute(conn._conn.setlimit, sqlite3.SQLITE_LIMIT_LENGTH, bounds.value_bytes)  # type: ignore[no-untyped-call]  # aiosqlite's, unannotated
                await conn.execute("PRAGMA query_only = ON")
                await conn.set_authorizer(_read_authorizer)
            await conn.set_progress_handler(deadline.expired, _PROGRESS_STEPS)
            return conn

        # pre_ping: a call cancelled mid-statement can leave its connection closed under the
        # pool; the ping replaces such a connection instead of handing it to the next call.
        # The URL names no file (the creator opens it), so SQLAlchemy would take it for an
        # in-memory database and use StaticPool: ONE connection shared by every concurrent
        # call, whose transactions then interleave (a commit lands in another call's
        # transaction, a rollback undoes an acknowledged write). Each call gets its own
        # connection; SQLite's lock (BEGIN IMMEDIATE + busy_timeout) serializes the writers.
        #
        # The read engine checks the same thing without a trip to the connection's thread (its
        # reads are the frequent, latency-bound calls): a connection whose aiosqlite thread was
        # stopped or whose sqlite3 connection was closed is replaced at checkout. And it rolls
        # back on return only a connection still in a transaction (a statement run by
        # :meth:`fetch` is its own transaction; ``Source.reading`` rolls back when it closes).
        engine = create_async_engine(
            "sqlite+aiosqlite://",
            async_creator=connect,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=self.limits.pool_size,
            max_overflow=self.limits.pool_size,
            pool_timeout=self.limits.statement_timeout_s,
            pool_pre_ping=write,
            pool_reset_on_return="rollback" if write else None,
        )
        if not write:
            event.listen(engine.sync_engine, "checkout", _replace_closed)
            event.listen(engine.sync_engine, "reset", _roll_back_if_open)
        begin = "BEGIN IMMEDIATE" if write else "BEGIN"

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(sync_conn: Any) -> None:  # pysqlite's implicit transactions are off; be explicit
            sync_conn.exec_driver_sql(begin)

        return engine

    async def aclose(self) -> None:
        """Stop the connections that leaked past the pool (after the engines were disposed)."""
        for conn in list(self._opened):
            if conn._running:  # leaked past the pool: stop its worker thread, waiting briefly
                stopped = conn.stop()
                if stopped is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(stopped, timeout=2)
        self._opened.clear()


async def _deadline_of(conn: AsyncConnection) -> _Deadline:
    raw = await conn.get_raw_connection()
    deadline: _Deadline = raw.driver_connection._workbench_deadline  # type: ignore[union-attr]  # Any | None in SQLAlchemy; set once checked out
    return deadline
