"""Named database sources and their pooled async engines.

Engines are created lazily (the first call that needs a source opens it; start-up stays
fast) and disposed when the server's lifespan ends. Every read runs in a transaction the
*engine* keeps read-only, whatever the SQL says (on SQLite a single-statement read is its own
transaction, run in one trip to the connection's thread: :meth:`Source.fetch`):

- SQLite: a separate read engine whose connections have ``PRAGMA query_only`` on and an
  authorizer that refuses writes, ATTACH, non-introspection PRAGMAs and dangerous functions;
  a read-only source is also opened with ``mode=ro``.
- PostgreSQL: ``SET TRANSACTION READ ONLY`` at the start of each read transaction.

Both engines get a statement time budget: PostgreSQL's ``statement_timeout``; for SQLite a
progress handler that interrupts a statement past its deadline. Reads keep to the memory
bounds of :mod:`~mcp_workbench.data.readbounds`: SQLite read connections refuse values over the
value bound and SQLite's heap is capped; :meth:`Source.fetch` takes rows within the page budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import anyio.to_thread
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolResetState

from mcp_workbench.data.dberrors import translate_db_errors
from mcp_workbench.data.readbounds import ReadBounds, pg_bounded, pg_rows, sqlite_rows
from mcp_workbench.data.settings import DataSettings, SourceSettings
from mcp_workbench.platform.errors import NotFound, ReadOnly, WorkbenchError
from mcp_workbench.platform.timeouts import commit_point

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

T = TypeVar("T")
# What :meth:`Source.fetch` hands its ``finish``: column names, rows, whether the page budget
# stopped it, and the driver's type code of each column (None on SQLite).
Finish = Callable[[list[str], list[Any], bool, list[Any]], T]


def _as_fetched(columns: list[str], rows: list[Any], _cut: bool, _types: list[Any]) -> tuple[list[str], list[Any]]:
    return columns, rows


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


@dataclass
class Source:
    """One configured database and its engines."""

    name: str
    config: SourceSettings
    limits: DataSettings
    url: URL = field(init=False)
    dialect: str = field(init=False)
    _read: AsyncEngine | None = field(default=None, init=False, repr=False)
    _write: AsyncEngine | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _dialect: Dialect | None = field(default=None, init=False, repr=False)
    # Every SQLite connection opened, so none outlives the source: a call cancelled while a
    # connection was being checked out can leave one the pool never saw, and its worker
    # thread would keep the process from exiting.
    _opened: weakref.WeakSet[aiosqlite.Connection] = field(default_factory=weakref.WeakSet, init=False, repr=False)

    def __post_init__(self) -> None:
        url = make_url(self.config.url)
        backend = url.get_backend_name()
        if backend == "sqlite":
            self.dialect = "sqlite"
            self.url = url.set(drivername="sqlite+aiosqlite")
        else:
            self.dialect = "postgresql"
            self.url = url.set(drivername="postgresql+asyncpg")

    @property
    def read_only(self) -> bool:
        return self.config.read_only

    @functools.cached_property
    def allow_functions(self) -> frozenset[str]:
        """The operator's own functions a read may call (PostgreSQL), besides the built-in list."""
        return frozenset(self.config.allow_functions)

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.database or "").expanduser().resolve()

    @cached_property
    def bounds(self) -> ReadBounds:
        return ReadBounds.of(self.limits)

    def sa_dialect(self) -> Dialect:
        """The SQLAlchemy dialect, for compiling statements without a connection (one per source,
        so the types' per-dialect caches stay warm)."""
        if self._dialect is None:
            self._dialect = self.url.get_dialect()()
        return self._dialect

    def describe(self) -> dict[str, Any]:
        """What a caller may know about the source: no password, no host internals beyond the URL."""
        shown = self.url.set(drivername=self.dialect)
        return {
            "name": self.name,
            "engine": self.dialect,
            "read_only": self.read_only,
            "url": shown.render_as_string(hide_password=True),
        }

    # --- transactions ---------------------------------------------------------------------

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction with the statement budget; always rolled back."""
        engine = await self._engine(write=False)
        with translate_db_errors(self):
            async with engine.connect() as conn:
                await conn.begin()
                try:
                    await self._prepare(conn, read_only=True)
                    yield conn
                finally:
                    await self._clear_deadline(conn)
                # closing rolls the transaction back (one trip; rolling back first would cost two)

    async def fetch(
        self,
        sql: str,
        params: Sequence[Any],
        max_rows: int,
        finish: Finish[T] = _as_fetched,  # type: ignore[assignment]  # a default cannot bind T (mypy #3737)
        *,
        bounded: bool = True,
    ) -> T:
        """Run one read-only statement and return ``finish(columns, rows, cut, types)`` (by
        default the columns and the rows), computed off the
        event loop: at most ``max_rows`` rows, taken within the page budget (``cut``: the budget
        stopped it; the last row is the one that crossed it). See :mod:`readbounds`.

        On SQLite the whole statement runs in one trip to the connection's thread: set the
        deadline, execute, fetch, close the cursor, build the page. A single statement is its
        own read transaction, so no BEGIN/ROLLBACK trips are needed; the connection is the read
        engine's (``query_only``, the read authorizer, the progress-handler deadline, the value
        bound), as in :meth:`reading`. On PostgreSQL the statement is wrapped so the server keeps
        to the bounds (``bounded=False``: a statement that cannot be wrapped and answers little,
        EXPLAIN), run in :meth:`reading`, and ``finish`` runs in a worker thread.
        """
        bounds = self.bounds
        if self.dialect != "sqlite":
            async with self.reading() as conn:
                description: Sequence[Sequence[Any]]
                if not bounded:
                    result = await conn.exec_driver_sql(sql, tuple(params))
                    description, rows, cut = result.cursor.description, list(result.fetchmany(max_rows)), False
                else:
                    result = await conn.exec_driver_sql(pg_bounded(sql, bounds), tuple(params))
                    description, rows, cut = pg_rows(
                        result.cursor.description, result.fetchmany(max_rows), bounds.page_bytes
                    )
            names, types = [column[0] for column in description], [column[1] for column in description]
            return await anyio.to_thread.run_sync(finish, names, rows, cut, types)
        engine = await self._engine(write=False)
        with translate_db_errors(self):
            async with engine.connect() as conn:
                driver: aiosqlite.Connection = (await conn.get_raw_connection()).driver_connection  # type: ignore[assignment]  # Any | None in SQLAlchemy; set once checked out
                deadline: _Deadline = driver._workbench_deadline  # type: ignore[attr-defined]  # hung on it by connect() below
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
                    bounds=bounds,
                )

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed if the block succeeds, rolled back otherwise.

        The COMMIT is the call's commit point (:func:`commit_point`): a call whose budget ran
        out or whose caller left before it rolls back; once the COMMIT is sent it is never
        interrupted, so its outcome is always known."""
        if self.read_only:
            raise ReadOnly(
                f"source '{self.name}' is read-only",
                recovery_steps=[
                    (
                        "Use data_read on this source, or write to a source whose read_only is false "
                        "(see data_read operation 'sources')."
                    )
                ],
                details={"source": self.name},
            )
        engine = await self._engine(write=True)
        with translate_db_errors(self):
            async with engine.connect() as conn:
                await conn.begin()
                try:
                    await self._prepare(conn, read_only=False)
                    yield conn
                    await self._clear_deadline(conn)
                    async with commit_point():
                        await conn.commit()
                except BaseException:
                    if conn.in_transaction():  # not committed: undo it all
                        await self._clear_deadline(conn)
                        await conn.rollback()
                    raise

    async def _prepare(self, conn: AsyncConnection, *, read_only: bool) -> None:
        budget = self.limits.statement_timeout_s
        if self.dialect == "postgresql":
            if read_only:
                await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(budget * 1000)}")
            await conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(budget * 1000)}")
        else:
            deadline = await self._deadline_of(conn)
            deadline.at = time.monotonic() + budget

    async def _clear_deadline(self, conn: AsyncConnection) -> None:
        # a call cancelled mid-statement can leave its connection invalidated: nothing to clear
        if self.dialect == "sqlite" and not conn.closed and not conn.invalidated:
            (await self._deadline_of(conn)).at = None

    @staticmethod
    async def _deadline_of(conn: AsyncConnection) -> _Deadline:
        raw = await conn.get_raw_connection()
        deadline: _Deadline = raw.driver_connection._workbench_deadline  # type: ignore[union-attr]  # Any | None in SQLAlchemy; set once checked out
        return deadline

    # --- engines --------------------------------------------------------------------------

    async def _engine(self, *, write: bool) -> AsyncEngine:
        async with self._lock:
            if write:
                if self._write is None:
                    self._write = self._create_engine(write=True)
                return self._write
            if self._read is None:
                self._read = self._create_engine(write=False)
            return self._read

    def _create_engine(self, *, write: bool) -> AsyncEngine:
        if self.dialect == "postgresql":
            # One engine serves both: read-only-ness is per transaction on PostgreSQL.
            if self._read is not None:
                return self._read
            if self._write is not None:
                return self._write
            return create_async_engine(
                self.url,
                pool_size=self.limits.pool_size,
                max_overflow=self.limits.pool_size,
                pool_pre_ping=True,
                pool_timeout=self.limits.statement_timeout_s,
                connect_args={
                    "timeout": min(10.0, self.limits.statement_timeout_s),
                    "server_settings": {"application_name": "mcp-workbench"},
                },
            )
        return self._create_sqlite_engine(write=write)

    def _create_sqlite_engine(self, *, write: bool) -> AsyncEngine:
        path = self.sqlite_path
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
            conn._workbench_deadline = deadline  # type: ignore[attr-defined]  # ours: fetch() and _deadline_of() read it
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
        # :meth:`fetch` is its own transaction; :meth:`reading` rolls back when it closes).
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

    async def ping(self) -> str | None:
        """None when the database answers a trivial query, else what is wrong."""
        try:
            async with self.reading() as conn:
                # SQLite answers SELECT 1 without opening the file's pages; reading the schema
                # shows the file can really be read (a WAL file on read-only storage cannot)
                probe = "SELECT count(*) FROM sqlite_master" if self.dialect == "sqlite" else "SELECT 1"
                await conn.exec_driver_sql(probe)
        except WorkbenchError as exc:
            return exc.message
        return None

    def pool_usage(self) -> dict[str, int]:
        """Connections in use and idle across this source's engines (for metrics)."""
        in_use = idle = 0
        for engine in {id(e): e for e in (self._read, self._write) if e is not None}.values():
            pool = engine.pool
            checked_out = getattr(pool, "checkedout", lambda: 0)()
            in_use += checked_out
            idle += max(0, getattr(pool, "checkedin", lambda: 0)())
        return {"in_use": in_use, "idle": idle}

    def pool_fill(self) -> float:
        """How full this source's fullest pool is (connections in use / the most it may open): at 1
        a call waits for a connection, up to the statement budget, then fails."""
        fill = 0.0
        for engine in (e for e in (self._read, self._write) if e is not None):
            pool = engine.pool
            capacity = getattr(pool, "size", lambda: 0)() + max(0, getattr(pool, "_max_overflow", 0))
            if capacity > 0:
                fill = max(fill, getattr(pool, "checkedout", lambda: 0)() / capacity)
        return fill

    async def aclose(self) -> None:
        async with self._lock:
            engines = {id(e): e for e in (self._read, self._write) if e is not None}
            self._read = self._write = None
        for engine in engines.values():
            await engine.dispose()
        for conn in list(self._opened):
            if conn._running:  # leaked past the pool: stop its worker thread, waiting briefly
                stopped = conn.stop()
                if stopped is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(stopped, timeout=2)
        self._opened.clear()


class SourceRegistry:
    """All sources of one server, by name."""

    def __init__(self, settings: DataSettings) -> None:
        self._sources = {
            name: Source(name=name, config=config, limits=settings) for name, config in settings.sources.items()
        }

    def names(self) -> list[str]:
        return list(self._sources)

    def all(self) -> list[Source]:
        return list(self._sources.values())

    def get(self, name: str) -> Source:
        try:
            return self._sources[name]
        except KeyError:
            raise NotFound(
                f"no data source named {name!r}",
                recovery_steps=[f"Use one of the configured sources: {', '.join(self._sources)}."],
                details={"source": name, "available": list(self._sources)},
            ) from None

    def any_writable(self) -> bool:
        return any(not source.read_only for source in self._sources.values())

    async def aclose(self) -> None:
        for source in self._sources.values():
            await source.aclose()
