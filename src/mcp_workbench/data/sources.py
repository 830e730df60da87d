"""Named database sources and their pooled async engines.

Engines are created lazily (the first call that needs a source opens it; start-up stays
fast) and disposed when the server's lifespan ends. Every read runs in a transaction the
*engine* keeps read-only, whatever the SQL says (on SQLite a single-statement read is its own
transaction, run in one trip to the connection's thread: :meth:`Source.fetch`):

- SQLite (:mod:`~mcp_workbench.data.sqlite_backend`): a separate read engine whose connections
  have ``PRAGMA query_only`` on and an authorizer that refuses writes, ATTACH,
  non-introspection PRAGMAs and dangerous functions; a read-only source is also opened with
  ``mode=ro``.
- PostgreSQL (:mod:`~mcp_workbench.data.pg_backend`): ``SET TRANSACTION READ ONLY`` at the
  start of each read transaction.

Both engines get a statement time budget: PostgreSQL's ``statement_timeout``; for SQLite a
progress handler that interrupts a statement past its deadline. Reads keep to the memory
bounds of :mod:`~mcp_workbench.data.readbounds`: SQLite read connections refuse values over the
value bound and SQLite's heap is capped; :meth:`Source.fetch` takes rows within the page budget.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_workbench.data.dberrors import translate_db_errors
from mcp_workbench.data.pg_backend import PgBackend
from mcp_workbench.data.readbounds import Finish, ReadBounds, T
from mcp_workbench.data.settings import DataSettings, SourceSettings
from mcp_workbench.data.sqlite_backend import SqliteBackend
from mcp_workbench.platform.errors import NotFound, ReadOnly, WorkbenchError
from mcp_workbench.platform.timeouts import commit_point


def _as_fetched(columns: list[str], rows: list[Any], _cut: bool, _types: list[Any]) -> tuple[list[str], list[Any]]:
    return columns, rows


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
    _backend: SqliteBackend | PgBackend = field(init=False, repr=False)

    def __post_init__(self) -> None:
        url = make_url(self.config.url)
        if url.get_backend_name() == "sqlite":
            self.dialect = "sqlite"
            self.url = url.set(drivername=SqliteBackend.driver)
            self._backend = SqliteBackend(self.name, self.url, self.limits, self.bounds, read_only=self.read_only)
        else:
            self.dialect = "postgresql"
            self.url = url.set(drivername=PgBackend.driver)
            self._backend = PgBackend(self.url, self.limits, self.bounds)

    @property
    def read_only(self) -> bool:
        return self.config.read_only

    @property
    def sqlite_path(self) -> Path:
        """The database file of a SQLite source (backups, restores and ``doctor`` name it)."""
        if not isinstance(self._backend, SqliteBackend):
            raise TypeError(f"source '{self.name}' is not a SQLite database")
        return self._backend.path

    @functools.cached_property
    def allow_functions(self) -> frozenset[str]:
        """The operator's own functions a read may call (PostgreSQL), besides the built-in list."""
        return frozenset(self.config.allow_functions)

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
                    await self._backend.prepare(conn, read_only=True)
                    yield conn
                finally:
                    await self._backend.clear_deadline(conn)
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
        backend = self._backend
        if isinstance(backend, PgBackend):
            async with self.reading() as conn:
                fetched = await backend.fetch_rows(conn, sql, params, max_rows, bounded=bounded)
            return await anyio.to_thread.run_sync(finish, *fetched)
        engine = await self._engine(write=False)
        with translate_db_errors(self):
            async with engine.connect() as conn:
                return await backend.fetch(conn, sql, params, max_rows, finish)

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
                    await self._backend.prepare(conn, read_only=False)
                    yield conn
                    await self._backend.clear_deadline(conn)
                    async with commit_point():
                        await conn.commit()
                except BaseException:
                    if conn.in_transaction():  # not committed: undo it all
                        await self._backend.clear_deadline(conn)
                        await conn.rollback()
                    raise

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
        if self._backend.shares_engine:  # PostgreSQL: read-only-ness is per transaction
            if self._read is not None:
                return self._read
            if self._write is not None:
                return self._write
        return self._backend.create_engine(write=write)

    async def ping(self) -> str | None:
        """None when the database answers a trivial query, else what is wrong."""
        try:
            async with self.reading() as conn:
                await conn.exec_driver_sql(self._backend.probe)
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
        await self._backend.aclose()


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
