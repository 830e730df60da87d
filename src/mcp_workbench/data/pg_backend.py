"""The PostgreSQL side of a data source: one pooled engine, and the settings each transaction
starts with.

One engine serves reads and writes, because read-only-ness is per transaction: a read starts
with ``SET TRANSACTION READ ONLY``. Every transaction gets the statement time budget as
``statement_timeout`` and ``lock_timeout``. A read is wrapped so the server itself keeps to the
memory bounds (:func:`~mcp_workbench.data.readbounds.pg_bounded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from mcp_workbench.data.readbounds import ReadBounds, pg_bounded, pg_rows
from mcp_workbench.data.settings import DataSettings


class PgBackend:
    """One PostgreSQL source's engine (see the module docstring)."""

    driver = "postgresql+asyncpg"
    shares_engine = True  # one engine for reads and writes
    probe = "SELECT 1"

    def __init__(self, url: URL, limits: DataSettings, bounds: ReadBounds) -> None:
        self.url = url
        self.limits = limits
        self.bounds = bounds

    def create_engine(self, *, write: bool) -> AsyncEngine:
        """The source's one engine, whichever kind of transaction asked first."""
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

    async def prepare(self, conn: AsyncConnection, *, read_only: bool) -> None:
        budget = self.limits.statement_timeout_s
        if read_only:
            await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(budget * 1000)}")
        await conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(budget * 1000)}")

    async def clear_deadline(self, conn: AsyncConnection) -> None:
        """Nothing to clear: the budget was ``SET LOCAL``, so it ends with the transaction."""

    async def fetch_rows(
        self, conn: AsyncConnection, sql: str, params: Sequence[Any], max_rows: int, *, bounded: bool
    ) -> tuple[list[str], list[Any], bool, list[Any]]:
        """In a read transaction: the columns, at most ``max_rows`` rows within the page budget,
        whether the budget stopped it, and each column's type code (``bounded=False``: a
        statement that cannot be wrapped and answers little, EXPLAIN)."""
        description: Sequence[Sequence[Any]]
        if not bounded:
            result = await conn.exec_driver_sql(sql, tuple(params))
            description, rows, cut = result.cursor.description, list(result.fetchmany(max_rows)), False
        else:
            result = await conn.exec_driver_sql(pg_bounded(sql, self.bounds), tuple(params))
            description, rows, cut = pg_rows(
                result.cursor.description, result.fetchmany(max_rows), self.bounds.page_bytes
            )
        return [column[0] for column in description], rows, cut, [column[1] for column in description]

    async def aclose(self) -> None:
        """Nothing of its own to close: the source disposes the engine."""
