"""The data capability on MCP: the two tools, schema resources, a prompt, and completions.

Thin by design: everything here declares MCP components and forwards to
:class:`~mcp_workbench.data.service.DataService`, which the first call that needs it builds
(with SQLAlchemy, sqlglot and the drivers): installing reads only the settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from fastmcp import FastMCP
from mcp_types import ToolAnnotations

from mcp_workbench.capability import Lazy, ServiceCapability, Services
from mcp_workbench.data import models
from mcp_workbench.data.port import DataReader
from mcp_workbench.data.settings import WORKSPACE_SOURCE, DataSettings
from mcp_workbench.platform.errors import WorkbenchError, resource_error
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.platform.tool_adapters import Answer, Operation, OperationTool
from mcp_workbench.scopes import DATA_READ, DATA_WRITE, scope_tags

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from mcp_workbench.data.service import DataService
    from mcp_workbench.data.writes import WriteOutcome

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


def data_read_tool(service: Lazy[DataService]) -> OperationTool:
    return OperationTool.build(
        name="data_read",
        title="Read data (SQL)",
        description=READ_DESCRIPTION,
        operations=[
            Operation(models.SourcesArgs, lambda args: _sources(service.get(), args)),
            Operation(models.TablesArgs, lambda args: _tables(service.get(), args)),
            Operation(models.DescribeArgs, lambda args: _describe(service.get(), args)),
            Operation(models.SelectArgs, lambda args: _select(service.get(), args)),
            Operation(models.CountArgs, lambda args: _count(service.get(), args)),
            Operation(models.SearchArgs, lambda args: _search(service.get(), args)),
            Operation(models.SqlArgs, lambda args: _sql(service.get(), args)),
        ],
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False),
        scope=DATA_READ,
    )


def data_write_tool(service: Lazy[DataService]) -> OperationTool:
    return OperationTool.build(
        name="data_write",
        title="Write data (SQL)",
        description=WRITE_DESCRIPTION,
        operations=[
            Operation(models.InsertArgs, lambda args: _written(service.get().insert(args))),
            Operation(models.UpdateArgs, lambda args: _written(service.get().update(args))),
            Operation(models.DeleteArgs, lambda args: _written(service.get().delete(args))),
            Operation(models.CreateTableArgs, lambda args: _written(service.get().create_table(args))),
            Operation(models.DropTableArgs, lambda args: _written(service.get().drop_table(args))),
        ],
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False
        ),
        scope=DATA_WRITE,
    )


# Each operation's answer: the service's result as structured data, and its text for the model.
# The text module loads the engine libraries, so it is imported by the first call, not at start-up.


async def _sources(service: DataService, args: models.SourcesArgs) -> Answer:
    from mcp_workbench.data import render

    listed = await service.sources(args)
    return Answer(render.sources_text(listed), {"sources": listed})


async def _tables(service: DataService, args: models.TablesArgs) -> Answer:
    from mcp_workbench.data import render

    found = await service.tables(args)
    return Answer(render.tables_text(found.source, found.read_only, found.tables),
                  {"source": found.source, "tables": found.tables})  # fmt: skip


async def _describe(service: DataService, args: models.DescribeArgs) -> Answer:
    from mcp_workbench.data import render

    found = await service.describe(args)
    return Answer(render.describe_text(found.source, found.table), {"source": found.source, **found.table.describe()})


async def _select(service: DataService, args: models.SelectArgs) -> Answer:
    from mcp_workbench.data import render

    page = await service.select(args)
    return Answer(await render.page_text_off_loop(page, f"'{args.table}'"), page.to_dict())


async def _count(service: DataService, args: models.CountArgs) -> Answer:
    total = await service.count(args)
    suffix = " matching the filters" if args.where else ""
    return Answer(f"{total} row(s) in '{args.table}'{suffix}.", {"table": args.table, "count": total})


async def _search(service: DataService, args: models.SearchArgs) -> Answer:
    from mcp_workbench.data import render

    found = await service.search(args)
    return Answer(render.search_text(found), found.to_dict())


async def _sql(service: DataService, args: models.SqlArgs) -> Answer:
    from mcp_workbench.data import render

    page = await service.sql(args)
    return Answer(await render.page_text_off_loop(page, "the statement", paged_by_offset=False), page.to_dict())


async def _written(work: Awaitable[WriteOutcome]) -> Answer:
    from mcp_workbench.data import render

    outcome = await work
    return Answer(render.write_text(outcome), outcome.to_dict())


EXPLORE_PROMPT = """Explore the database source '{source}' and report what it holds.{focus_line}

1. Call data_read with {{"operation": "tables", "source": "{source}"}} to list its tables.
2. For each table that looks relevant, call {{"operation": "describe", "source": "{source}", "table": ...}}
   and {{"operation": "count", ...}} to learn its columns, keys and size.
3. Look at a few rows with {{"operation": "select", ..., "limit": 5}}; follow foreign keys to related tables.
4. Use {{"operation": "search", "query": ...}} to find where a term appears.
5. For aggregates or joins, use {{"operation": "sql", "sql": "SELECT ..."}} (one read-only statement, ? placeholders).

Summarise: what each table is for, how tables relate, data quality issues you noticed, and good next questions.
Do not change any data."""


def _schema_reader(service: Lazy[DataService], source: str) -> Callable[[], Awaitable[str]]:
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


class DataCapability(ServiceCapability["DataService"]):
    """The data capability as the composition root sees it. Its :class:`DataService` is built
    by the first call, resource read, completion or readiness check that needs it."""

    name = "data"

    def __init__(self, settings: DataSettings) -> None:
        super().__init__(lambda: _open(settings))
        self.sources = settings.sources
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
        await super().aclose()

    async def check(self) -> dict[str, str | None]:
        return await self.service.get().check()

    def service_samples(self, service: DataService) -> Iterable[Sample]:
        return service.samples()

    def idle_samples(self) -> Iterator[Sample]:
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
        source = ((context.arguments or {}) if context else {}).get("source", WORKSPACE_SOURCE)
        return await self.service.get().complete(argument.name, argument.value, source)


def _open(settings: DataSettings) -> DataService:
    from mcp_workbench.data.service import DataService

    return DataService(settings)


def _reader(capability: DataCapability) -> DataReader:
    from mcp_workbench.data.service import SourceReader

    return SourceReader(capability.service.get())


def install(mcp: FastMCP, settings: DataSettings, services: Services) -> DataCapability:
    capability = DataCapability(settings)
    register_data(mcp, capability)
    services.offer(DataReader, Lazy(lambda: _reader(capability)), scope=DATA_READ, what="reading the databases")
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
