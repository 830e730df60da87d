"""Writes: insert, update, delete, create_table, drop_table — each in one transaction.

Every write validates names against the live schema and coerces values before it opens a
transaction, so a bad request changes nothing. ``dry_run`` runs no write statement at all:
it reports what would happen from reads (matching rows, the DDL that would run), which
leaves even sequences untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from mcp_workbench.data.ddl import column_for
from mcp_workbench.data.models import CreateTableArgs, DeleteArgs, DropTableArgs, InsertArgs, UpdateArgs
from mcp_workbench.data.schema import SchemaCatalog, TableInfo
from mcp_workbench.data.sources import Source
from mcp_workbench.data.table_reads import conditions
from mcp_workbench.data.values import coerce, to_json
from mcp_workbench.platform.errors import Conflict, InvalidInput, NotFound

NEW_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SAMPLE_ROWS = 5
_RETURNED_KEYS = 100


@dataclass
class WriteOutcome:
    operation: str
    table: str
    dry_run: bool
    affected: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "table": self.table,
            "dry_run": self.dry_run,
            "affected": self.affected,
            **self.extra,
        }


def _require_filter(where: list[Any], all_rows: bool, operation: str) -> None:
    if not where and not all_rows:
        raise InvalidInput(
            f"{operation} without 'where' would touch every row",
            recovery_steps=[
                "Add where conditions that select the rows to change,",
                "or, if every row really must change, call again with all_rows: true.",
            ],
            details={"field": "where"},
        )


def _require_table(table: TableInfo, operation: str) -> None:
    if table.kind != "table":
        raise InvalidInput(
            f"'{table.name}' is a {table.kind}; {operation} needs a table", details={"table": table.name}
        )


def _coerce_row(table: TableInfo, row: dict[str, Any], index: int | None = None) -> dict[str, Any]:
    coerced: dict[str, Any] = {}
    for key, value in row.items():
        try:
            info = table.column(key)
        except NotFound as exc:
            if index is not None:
                exc.details["row_index"] = index
            raise
        coerced[info.name] = coerce(value, info.sa_type, info.name)
    return coerced


async def insert_rows(source: Source, catalog: SchemaCatalog, args: InsertArgs) -> WriteOutcome:
    table = await catalog.table(source, args.table)
    _require_table(table, "insert")
    limit = source.limits.max_write_rows
    if len(args.rows) > limit:
        raise InvalidInput(
            f"{len(args.rows)} rows exceed this server's max_write_rows of {limit}",
            recovery_steps=[f"Insert at most {limit} rows per call; split the rest into further calls."],
            details={"field": "rows", "max": limit},
        )
    rows = [_coerce_row(table, row, index) for index, row in enumerate(args.rows)]
    if args.dry_run:
        return WriteOutcome("insert", table.name, True, len(rows), {"would_insert": len(rows)})
    sa_table = table.sa_table
    pk_cols = [sa_table.c[name] for name in table.primary_key]
    keys: list[Any] = []
    # Rows with different key sets go in separate batches so omitted columns get their defaults.
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        batches.setdefault(tuple(sorted(row)), []).append(row)
    async with source.writing() as conn:
        for batch in batches.values():
            statement = sa.insert(sa_table)
            if pk_cols:
                result = await conn.execute(statement.returning(*pk_cols), batch)
                keys.extend(to_json(r[0]) if len(pk_cols) == 1 else [to_json(v) for v in r] for r in result.fetchall())
            else:
                await conn.execute(statement, batch)
    extra: dict[str, Any] = {"inserted": len(rows)}
    if pk_cols:
        extra["primary_key"] = table.primary_key
        extra["inserted_keys"] = keys[:_RETURNED_KEYS]
    return WriteOutcome("insert", table.name, False, len(rows), extra)


async def _matching(conn: Any, table: TableInfo, where_clauses: list[Any]) -> tuple[int, list[dict[str, Any]]]:
    sa_table = table.sa_table
    count = int(
        (await conn.execute(sa.select(sa.func.count()).select_from(sa_table).where(*where_clauses))).scalar_one()
    )
    sample = (
        (await conn.execute(sa.select(*table.readable()).where(*where_clauses).limit(_SAMPLE_ROWS)))
        .mappings()
        .fetchall()
    )
    return count, [{k: to_json(v) for k, v in row.items()} for row in sample]


async def update_rows(source: Source, catalog: SchemaCatalog, args: UpdateArgs) -> WriteOutcome:
    table = await catalog.table(source, args.table)
    _require_table(table, "update")
    _require_filter(args.where, args.all_rows, "update")
    values = _coerce_row(table, args.values)
    where = conditions(table, args.where)
    if args.dry_run:
        async with source.reading() as conn:
            count, sample = await _matching(conn, table, where)
        return WriteOutcome("update", table.name, True, count, {"would_update": count, "sample_before": sample})
    async with source.writing() as conn:
        result = await conn.execute(sa.update(table.sa_table).where(*where).values(**values))
    return WriteOutcome("update", table.name, False, result.rowcount, {"updated": result.rowcount})


async def delete_rows(source: Source, catalog: SchemaCatalog, args: DeleteArgs) -> WriteOutcome:
    table = await catalog.table(source, args.table)
    _require_table(table, "delete")
    _require_filter(args.where, args.all_rows, "delete")
    where = conditions(table, args.where)
    if args.dry_run:
        async with source.reading() as conn:
            count, sample = await _matching(conn, table, where)
        return WriteOutcome("delete", table.name, True, count, {"would_delete": count, "sample": sample})
    async with source.writing() as conn:
        result = await conn.execute(sa.delete(table.sa_table).where(*where))
    return WriteOutcome("delete", table.name, False, result.rowcount, {"deleted": result.rowcount})


async def create_table(source: Source, catalog: SchemaCatalog, args: CreateTableArgs) -> WriteOutcome:
    if not NEW_NAME.match(args.table):
        raise InvalidInput(
            f"table name {args.table!r} is not allowed",
            recovery_steps=["Use letters, digits and underscores, starting with a letter or underscore (max 63)."],
            details={"field": "table"},
        )
    names = [c.name.lower() for c in args.columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput(f"duplicate column names: {', '.join(duplicates)}", details={"field": "columns"})
    existing = await catalog.tables(source, refresh=True)
    if args.table in existing or args.table.lower() in {n.lower() for n in existing}:
        if args.if_not_exists:
            return WriteOutcome("create_table", args.table, args.dry_run, 0, {"created": False, "reason": "exists"})
        raise Conflict(
            f"table '{args.table}' already exists",
            recovery_steps=["Use another name, pass if_not_exists: true, or drop the table first (drop_table)."],
            details={"table": args.table},
        )
    metadata = sa.MetaData()
    table = sa.Table(args.table, metadata, *(column_for(spec) for spec in args.columns))
    ddl = str(CreateTable(table).compile(dialect=source.sa_dialect())).strip()
    if args.dry_run:
        return WriteOutcome("create_table", args.table, True, 0, {"would_create": True, "ddl": ddl})
    async with source.writing() as conn:
        await conn.execute(CreateTable(table))
    catalog.invalidate(source)
    return WriteOutcome("create_table", args.table, False, 0, {"created": True, "ddl": ddl})


async def drop_table(source: Source, catalog: SchemaCatalog, args: DropTableArgs) -> WriteOutcome:
    tables = await catalog.tables(source, refresh=True)
    if args.table not in tables:
        if args.if_exists:
            return WriteOutcome("drop_table", args.table, args.dry_run, 0, {"dropped": False, "reason": "absent"})
        await catalog.table(source, args.table)  # raises NOT_FOUND with suggestions
    table = await catalog.table(source, args.table)
    _require_table(table, "drop_table")
    sa_table = table.sa_table
    async with source.reading() as conn:
        rows = int((await conn.execute(sa.select(sa.func.count()).select_from(sa_table))).scalar_one())
    if args.dry_run:
        return WriteOutcome("drop_table", table.name, True, rows, {"would_drop": True, "rows_lost": rows})
    drop = sa.Table(table.name, sa.MetaData())
    async with source.writing() as conn:
        await conn.execute(sa.schema.DropTable(drop))
    catalog.invalidate(source)
    return WriteOutcome("drop_table", table.name, False, rows, {"dropped": True, "rows_lost": rows})
