"""The data capability on MCP: the two tools, schema resources, a prompt, and completions.

Thin by design: everything here declares MCP components and forwards to
:class:`~mcp_workbench.data.service.DataService`, which the first call that needs it builds
(with SQLAlchemy, sqlglot and the drivers): installing reads only the settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from fastmcp import FastMCP
from mcp_types import ToolAnnotations

from mcp_workbench.capability import Deferred
from mcp_workbench.data import models
from mcp_workbench.platform.errors import WorkbenchError, resource_error
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.platform.tools import Operation, OperationTool
from mcp_workbench.scopes import DATA_READ, DATA_WRITE, scope_tags
from mcp_workbench.settings import Settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from mcp_workbench.data.service import DataService

READ_DESCRIPTION = """Read SQL databases (SQLite, PostgreSQL) safely; never changes data.
Start with operation 'sources' or 'tables', then 'describe' a table before querying it.
'select' returns {columns, rows, truncated, next_offset}; when truncated, call again with offset=next_offset.
'where' is a list of {column, op, value} combined with AND; ops: = != < <= > >= in not_in like is_null is_not_null.
'sql' runs one read-only statement (SELECT / WITH ... SELECT / VALUES / EXPLAIN), ? placeholders bound from params.
'source' defaults to 'workspace'."""

WRITE_DESCRIPTION = """Change SQL databases: insert rows, update or delete rows matching filters, create or drop tables.
Each call is one transaction: it applies fully or not at all, and returns the affected row count.
update/delete need 'where' filters; touching every row needs all_rows: true.
Use dry_run: true to see what would change without changing anything.
Column types for create_table: integer, bigint, real, numeric, text, boolean, date, datetime, time, blob, json, uuid.
Read-only sources refuse writes (READ_ONLY). 'source' defaults to 'workspace'."""


def data_read_tool(service: Deferred[DataService]) -> OperationTool:
    return OperationTool.build(
        name="data_read",
        title="Read data (SQL)",
        description=READ_DESCRIPTION,
        operations=[
            Operation(models.SourcesArgs, lambda args: service.get().sources(args)),
            Operation(models.TablesArgs, lambda args: service.get().tables(args)),
            Operation(models.DescribeArgs, lambda args: service.get().describe(args)),
            Operation(models.SelectArgs, lambda args: service.get().select(args)),
            Operation(models.CountArgs, lambda args: service.get().count(args)),
            Operation(models.SearchArgs, lambda args: service.get().search(args)),
            Operation(models.SqlArgs, lambda args: service.get().sql(args)),
        ],
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False),
        scope=DATA_READ,
    )


def data_write_tool(service: Deferred[DataService]) -> OperationTool:
    return OperationTool.build(
        name="data_write",
        title="Write data (SQL)",
        description=WRITE_DESCRIPTION,
        operations=[
            Operation(models.InsertArgs, lambda args: service.get().insert(args)),
            Operation(models.UpdateArgs, lambda args: service.get().update(args)),
            Operation(models.DeleteArgs, lambda args: service.get().delete(args)),
            Operation(models.CreateTableArgs, lambda args: service.get().create_table(args)),
            Operation(models.DropTableArgs, lambda args: service.get().drop_table(args)),
        ],
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False
        ),
        scope=DATA_WRITE,
    )


EXPLORE_PROMPT = """Explore the database source '{source}' and report what it holds.{focus_line}

1. Call data_read with {{"operation": "tables", "source": "{source}"}} to list its tables.
2. For each table that looks relevant, call {{"operation": "describe", "source": "{source}", "table": ...}}
   and {{"operation": "count", ...}} to learn its columns, keys and size.
3. Look at a few rows with {{"operation": "select", ..., "limit": 5}}; follow foreign keys to related tables.
4. Use {{"operation": "search", "query": ...}} to find where a term appears.
5. For aggregates or joins, use {{"operation": "sql", "sql": "SELECT ..."}} (one read-only statement, ? placeholders).

Summarise: what each table is for, how tables relate, data quality issues you noticed, and good next questions.
Do not change any data."""


def _schema_reader(service: Deferred[DataService], source: str) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        return json.dumps(await _resource(service.get().schema_document(source)), ensure_ascii=False, default=str)

    return read


async def _resource(work: Awaitable[dict[str, object]]) -> dict[str, object]:
    """Resources have no isError; a domain failure becomes a readable resource error."""
    try:
        return await work
    except WorkbenchError as exc:
        raise resource_error(exc) from None


TABLE_TEMPLATE = "data://{source}/tables/{table}"
EXPLORE_PROMPT_NAME = "explore_database"


class DataCapability:
    """The data capability as the composition root sees it. Its :class:`DataService` is built
    by the first call, resource read, completion or readiness check that needs it."""

    name = "data"

    def __init__(self, settings: Settings) -> None:
        self.sources = settings.sources()
        self.service: Deferred[DataService] = Deferred(lambda: _open(settings))
        self._audit: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Check, in the background, that each PostgreSQL source answers and what its role may do;
        log what is found (start-up does not wait for it, nor refuse to start: a database may come
        up later). SQLite sources are local files, checked by their first use."""
        if any(not config.url.startswith("sqlite") for config in self.sources.values()):
            self._audit = asyncio.create_task(self._log_audit(), name="data-source-check")

    async def _log_audit(self) -> None:
        from mcp_workbench.data.privileges import log_findings

        try:
            service = self.service.get()
            answering = await service.log_reachability()
            log_findings(await service.audit(answering))
        except Exception:  # a check that failed must not go unnoticed, nor stop the server
            log.exception("checking the data sources failed")

    async def aclose(self) -> None:
        if self._audit is not None:
            self._audit.cancel()
            await asyncio.gather(self._audit, return_exceptions=True)
        if (service := self.service.built) is not None:
            await service.aclose()

    async def check(self) -> dict[str, str | None]:
        return await self.service.get().check()

    def samples(self) -> Iterator[Sample]:
        if (service := self.service.built) is not None:
            yield from service.samples()
            return
        for name in self.sources:  # no engine yet, so no connections
            for state in ("in_use", "idle"):
                yield Sample(
                    "db_pool_connections",
                    "Database connections per source by state.",
                    0,
                    {"source": name, "state": state},
                )
            yield Sample(
                "db_pool_usage_ratio",
                "Connections in use over the most the source's fullest pool may open (1: calls wait).",
                0,
                {"source": name},
            )

    async def complete(self, ref: Any, argument: Any, context: Any) -> list[str] | None:
        if getattr(ref, "uri", None) != TABLE_TEMPLATE and getattr(ref, "name", None) != EXPLORE_PROMPT_NAME:
            return None  # not ours: leave the data service unbuilt
        return await self.service.get().complete(ref, argument, context)


def _open(settings: Settings) -> DataService:
    from mcp_workbench.data.service import DataService

    return DataService(settings)


def install(mcp: FastMCP, settings: Settings) -> DataCapability:
    capability = DataCapability(settings)
    register_data(mcp, capability)
    return capability


def register_data(mcp: FastMCP, capability: DataCapability) -> None:
    service = capability.service
    mcp.add_tool(data_read_tool(service))
    if any(not config.read_only for config in capability.sources.values()):
        mcp.add_tool(data_write_tool(service))

    for name in capability.sources:
        mcp.resource(
            f"data://{name}/schema",
            name=f"{name}-schema",
            title=f"Schema of data source '{name}'",
            description=f"Tables, columns, keys and indexes of the '{name}' database, as JSON.",
            mime_type="application/json",
            tags=scope_tags(DATA_READ),
        )(_schema_reader(service, name))

    @mcp.resource(
        TABLE_TEMPLATE,
        name="table-description",
        title="Table description",
        description="Columns, types, keys and indexes of one table, as JSON.",
        mime_type="application/json",
        tags=scope_tags(DATA_READ),
    )
    async def table_description(source: str, table: str) -> str:
        document = service.get().table_document(source, table)
        return json.dumps(await _resource(document), ensure_ascii=False, default=str)

    @mcp.prompt(
        name=EXPLORE_PROMPT_NAME,
        title="Explore a database",
        description="Guide for surveying a data source: tables, columns, relations, sample rows, data quality.",
        tags=scope_tags(DATA_READ),
    )
    def explore_database(source: str = "workspace", focus: str = "") -> str:
        focus_line = f"\nFocus on: {focus}" if focus else ""
        return EXPLORE_PROMPT.format(source=source, focus_line=focus_line)
