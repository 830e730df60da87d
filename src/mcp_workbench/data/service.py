"""The data capability's handlers: plain async functions from arguments to answers.

This is the seam between the tool adapter (which validates and maps errors) and the domain
modules (which know nothing of MCP). Each handler picks the source, calls one domain
function, and shapes its result as text plus structured data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mcp_workbench.data import privileges, search, sql_reads, table_reads, writes
from mcp_workbench.data.models import (
    CountArgs,
    CreateTableArgs,
    DeleteArgs,
    DescribeArgs,
    DropTableArgs,
    InsertArgs,
    SearchArgs,
    SelectArgs,
    SourcesArgs,
    SqlArgs,
    TablesArgs,
    UpdateArgs,
)
from mcp_workbench.data.paging import RowPage
from mcp_workbench.data.privileges import Finding
from mcp_workbench.data.schema import SchemaCatalog, TableInfo
from mcp_workbench.data.settings import DataSettings
from mcp_workbench.data.sources import SourceRegistry
from mcp_workbench.platform.errors import InvalidInput, WorkbenchError
from mcp_workbench.platform.metrics import Sample

ArgsT = TypeVar("ArgsT", bound=BaseModel)

MAX_SCHEMA_TABLES = 200


log = logging.getLogger("mcp_workbench.data")


@dataclass(frozen=True, slots=True)
class TableList:
    """The tables and views of one source."""

    source: str
    read_only: bool
    tables: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class Described:
    """One table's columns, keys and indexes."""

    source: str
    table: TableInfo


class DataService:
    """Sources, their schema cache, and one handler per operation."""

    name = "data"

    def __init__(self, settings: DataSettings) -> None:
        self.settings = settings
        self.registry = SourceRegistry(settings)
        self.catalog = SchemaCatalog()

    async def aclose(self) -> None:
        await self.registry.aclose()

    async def check(self) -> dict[str, str | None]:
        """Readiness: every source answers ``SELECT 1``."""
        sources = self.registry.all()
        problems = await asyncio.gather(*(source.ping() for source in sources))
        return {f"database:{source.name}": problem for source, problem in zip(sources, problems, strict=True)}

    async def audit(self, names: Iterable[str] | None = None) -> list[Finding]:
        """Every source's connection risks (a superuser, server-file rights, dblink, ...); only
        the sources ``names`` if given."""
        sources = [s for s in self.registry.all() if names is None or s.name in set(names)]
        found = await asyncio.gather(*(privileges.audit(source) for source in sources))
        return [finding for findings in found for finding in findings]

    async def log_reachability(self) -> list[str]:
        """Log whether each PostgreSQL source answers, naming the cause when it does not (wrong
        credentials look different from a database that is down); the names of those that answer."""
        sources = [source for source in self.registry.all() if source.dialect != "sqlite"]
        problems = await asyncio.gather(*(source.ping() for source in sources))
        for source, problem in zip(sources, problems, strict=True):
            if problem is None:
                log.info("data source answers", extra={"source": source.name})
            else:
                log.warning(
                    "data source %r does not answer: %s (the server runs; calls to it fail until it does)",
                    source.name,
                    problem,
                    extra={"source": source.name},
                )
        return [source.name for source, problem in zip(sources, problems, strict=True) if problem is None]

    def samples(self) -> Iterator[Sample]:
        for source in self.registry.all():
            for state, count in source.pool_usage().items():
                yield Sample(
                    "db_pool_connections",
                    "Database connections per source by state.",
                    count,
                    {"source": source.name, "state": state},
                )
            yield Sample(
                "db_pool_usage_ratio",
                "Connections in use over the most the source's fullest pool may open (1: calls wait).",
                source.pool_fill(),
                {"source": source.name},
            )

    # --- data_read ------------------------------------------------------------------------

    async def sources(self, args: SourcesArgs) -> list[dict[str, Any]]:
        return [source.describe() for source in self.registry.all()]

    async def tables(self, args: TablesArgs) -> TableList:
        source = self.registry.get(args.source)
        tables = await self.catalog.tables(source, refresh=True)
        listed = [{"name": name, "kind": kind} for name, kind in tables.items()]
        return TableList(source.name, source.read_only, listed)

    async def describe(self, args: DescribeArgs) -> Described:
        source = self.registry.get(args.source)
        return Described(source.name, await self.catalog.table(source, args.table))

    async def select(self, args: SelectArgs) -> RowPage:
        return await table_reads.select_rows(self.registry.get(args.source), self.catalog, args)

    async def count(self, args: CountArgs) -> int:
        return await table_reads.count_rows(self.registry.get(args.source), self.catalog, args)

    async def search(self, args: SearchArgs) -> search.SearchResult:
        return await search.search(self.registry.get(args.source), self.catalog, args)

    async def sql(self, args: SqlArgs) -> RowPage:
        return await sql_reads.run_sql(self.registry.get(args.source), args)

    # --- data_write -----------------------------------------------------------------------

    async def insert(self, args: InsertArgs) -> writes.WriteOutcome:
        return await writes.insert_rows(self.registry.get(args.source), self.catalog, args)

    async def update(self, args: UpdateArgs) -> writes.WriteOutcome:
        return await writes.update_rows(self.registry.get(args.source), self.catalog, args)

    async def delete(self, args: DeleteArgs) -> writes.WriteOutcome:
        return await writes.delete_rows(self.registry.get(args.source), self.catalog, args)

    async def create_table(self, args: CreateTableArgs) -> writes.WriteOutcome:
        return await writes.create_table(self.registry.get(args.source), self.catalog, args)

    async def drop_table(self, args: DropTableArgs) -> writes.WriteOutcome:
        return await writes.drop_table(self.registry.get(args.source), self.catalog, args)

    # --- completions ----------------------------------------------------------------------

    async def complete(self, argument: str, prefix: str, source: str) -> list[str]:
        """Source names (``argument`` "source") or table names of ``source`` ("table") that
        start with ``prefix``, case-insensitively; nothing for other arguments."""
        prefix = prefix.lower()
        if argument == "source":
            return [n for n in self.registry.names() if n.lower().startswith(prefix)]
        if argument == "table":
            try:
                names = await self.table_names(source)
            except WorkbenchError:
                return []
            return [n for n in names if n.lower().startswith(prefix)]
        return []

    # --- resources ------------------------------------------------------------------------

    async def schema_document(self, source_name: str) -> dict[str, Any]:
        source = self.registry.get(source_name)
        tables = await self.catalog.tables(source, refresh=True)
        described = [(await self.catalog.table(source, name)).describe() for name in list(tables)[:MAX_SCHEMA_TABLES]]
        return {**source.describe(), "tables": described, "truncated": len(tables) > MAX_SCHEMA_TABLES}

    async def table_document(self, source_name: str, table: str) -> dict[str, Any]:
        source = self.registry.get(source_name)
        return {"source": source.name, **(await self.catalog.table(source, table)).describe()}

    async def table_names(self, source_name: str) -> list[str]:
        source = self.registry.get(source_name)
        return list(await self.catalog.tables(source))


class SourceReader:
    """:class:`~mcp_workbench.data.port.DataReader` over this service: the same read-only
    paths, guards and bounds as ``data_read``, with plain results."""

    def __init__(self, service: DataService) -> None:
        self._service = service

    def source_names(self) -> list[str]:
        return self._service.registry.names()

    @property
    def max_rows(self) -> int:
        return self._service.settings.max_rows

    async def sql(self, source: str, sql: str, params: Sequence[Any] = (), *, limit: int | None = None) -> RowPage:
        """One read-only statement, as ``data_read`` operation ``sql`` runs it."""
        args = _arguments(SqlArgs, operation="sql", source=source, sql=sql, params=list(params), limit=limit)
        return await sql_reads.run_sql(self._service.registry.get(source), args)

    async def rows(self, source: str, table: str, *, limit: int | None = None) -> RowPage:
        """The first rows of ``table``."""
        args = _arguments(SelectArgs, operation="select", source=source, table=table, limit=limit)
        return await table_reads.select_rows(self._service.registry.get(source), self._service.catalog, args)

    async def search(self, source: str, text: str, *, limit: int | None = None) -> search.SearchResult:
        """Rows of any table whose text columns hold ``text`` (full-text where indexed)."""
        args = _arguments(SearchArgs, operation="search", source=source, query=text, limit=limit)
        return await search.search(self._service.registry.get(source), self._service.catalog, args)


def _arguments(model: type[ArgsT], **values: Any) -> ArgsT:
    """Arguments validated as the tool validates them; a bad value is the caller's error."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"invalid data request: {problems}") from None
