"""The data capability on MCP: the two tools, schema resources, a prompt, and completions.

Thin by design: everything here declares MCP components and forwards to
:class:`~mcp_workbench.data.service.DataService`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastmcp import FastMCP
from mcp_types import ToolAnnotations

from mcp_workbench.data import models
from mcp_workbench.data.service import DataService
from mcp_workbench.platform.errors import WorkbenchError
from mcp_workbench.platform.tools import Operation, OperationTool
from mcp_workbench.settings import Settings

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


def data_read_tool(service: DataService) -> OperationTool:
    return OperationTool.build(
        name="data_read",
        title="Read data (SQL)",
        description=READ_DESCRIPTION,
        operations=[
            Operation(models.SourcesArgs, service.sources),
            Operation(models.TablesArgs, service.tables),
            Operation(models.DescribeArgs, service.describe),
            Operation(models.SelectArgs, service.select),
            Operation(models.CountArgs, service.count),
            Operation(models.SearchArgs, service.search),
            Operation(models.SqlArgs, service.sql),
        ],
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False),
    )


def data_write_tool(service: DataService) -> OperationTool:
    return OperationTool.build(
        name="data_write",
        title="Write data (SQL)",
        description=WRITE_DESCRIPTION,
        operations=[
            Operation(models.InsertArgs, service.insert),
            Operation(models.UpdateArgs, service.update),
            Operation(models.DeleteArgs, service.delete),
            Operation(models.CreateTableArgs, service.create_table),
            Operation(models.DropTableArgs, service.drop_table),
        ],
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False
        ),
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


def _schema_reader(service: DataService, source: str) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        return json.dumps(await _resource(service.schema_document(source)), ensure_ascii=False, default=str)

    return read


async def _resource(work: Awaitable[dict[str, object]]) -> dict[str, object]:
    """Resources have no isError; a domain failure becomes a readable resource error."""
    try:
        return await work
    except WorkbenchError as exc:
        from fastmcp.exceptions import ResourceError

        raise ResourceError(f"{exc.code}: {exc.message}") from None


TABLE_TEMPLATE = "data://{source}/tables/{table}"
EXPLORE_PROMPT_NAME = "explore_database"


def install(mcp: FastMCP, settings: Settings) -> DataService:
    service = DataService(settings)
    register_data(mcp, service)
    return service


def register_data(mcp: FastMCP, service: DataService) -> None:
    mcp.add_tool(data_read_tool(service))
    if service.registry.any_writable():
        mcp.add_tool(data_write_tool(service))

    for name in service.registry.names():
        mcp.resource(
            f"data://{name}/schema",
            name=f"{name}-schema",
            title=f"Schema of data source '{name}'",
            description=f"Tables, columns, keys and indexes of the '{name}' database, as JSON.",
            mime_type="application/json",
        )(_schema_reader(service, name))

    @mcp.resource(
        TABLE_TEMPLATE,
        name="table-description",
        title="Table description",
        description="Columns, types, keys and indexes of one table, as JSON.",
        mime_type="application/json",
    )
    async def table_description(source: str, table: str) -> str:
        return json.dumps(await _resource(service.table_document(source, table)), ensure_ascii=False, default=str)

    @mcp.prompt(
        name=EXPLORE_PROMPT_NAME,
        title="Explore a database",
        description="Guide for surveying a data source: tables, columns, relations, sample rows, data quality.",
    )
    def explore_database(source: str = "workspace", focus: str = "") -> str:
        focus_line = f"\nFocus on: {focus}" if focus else ""
        return EXPLORE_PROMPT.format(source=source, focus_line=focus_line)
