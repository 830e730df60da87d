"""Structured reads: select and count built with SQLAlchemy Core from validated names.

Names come from :class:`~mcp_workbench.data.schema.TableInfo` (the database's own), values
are bound parameters, and SQLAlchemy quotes identifiers for the dialect. Pages are exact:
one row more than the page is fetched to know whether another page exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mcp_workbench.data.models import CountArgs, Filter, SelectArgs
from mcp_workbench.data.schema import SchemaCatalog, TableInfo
from mcp_workbench.data.sources import Source
from mcp_workbench.data.values import coerce, to_json
from mcp_workbench.platform.errors import InvalidInput, TooLarge
from mcp_workbench.settings import DataSettings


@dataclass
class Page:
    """Rows of one page and how to get the next."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    next_offset: int | None
    offset: int = 0
    truncated_by: str | None = None  # "limit" | "bytes"

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "next_offset": self.next_offset,
        }


def page_limit(requested: int | None, limits: DataSettings) -> int:
    if requested is None:
        return min(limits.default_limit, limits.max_rows)
    if requested > limits.max_rows:
        raise InvalidInput(
            f"limit {requested} exceeds this server's max_rows of {limits.max_rows}",
            recovery_steps=[f"Use limit <= {limits.max_rows} and page with offset/next_offset."],
            details={"field": "limit", "max": limits.max_rows},
        )
    return requested


def conditions(table: TableInfo, where: list[Filter]) -> list[sa.ColumnElement[bool]]:
    """SQL conditions for the filters; every column is checked against the live schema."""
    sa_table = table.sa_table
    clauses: list[sa.ColumnElement[bool]] = []
    for condition in where:
        info = table.column(condition.column)
        col = sa_table.c[info.name]
        op = condition.op
        if op == "is_null":
            clauses.append(col.is_(None))
        elif op == "is_not_null":
            clauses.append(col.is_not(None))
        elif op in ("in", "not_in"):
            values = [coerce(v, info.sa_type, info.name) for v in condition.value]  # type: ignore[union-attr]
            clauses.append(col.in_(values) if op == "in" else col.not_in(values))
        elif op == "like":
            clauses.append(col.like(condition.value))
        else:
            value = coerce(condition.value, info.sa_type, info.name)
            clauses.append(_compare(col, op, value))
    return clauses


def _compare(col: Any, op: str, value: Any) -> sa.ColumnElement[bool]:
    match op:
        case "=":
            return col == value
        case "!=":
            return col != value
        case "<":
            return col < value
        case "<=":
            return col <= value
        case ">":
            return col > value
        case _:
            return col >= value


async def select_rows(source: Source, catalog: SchemaCatalog, args: SelectArgs) -> Page:
    table = await catalog.table(source, args.table)
    limit = page_limit(args.limit, source.limits)
    sa_table = table.sa_table
    names = [table.column(name).name for name in args.columns] if args.columns else [c.name for c in table.columns]
    statement = sa.select(*table.readable(names)).where(*conditions(table, args.where))
    order = args.order_by or []
    for item in order:
        col = sa_table.c[table.column(item.column).name]
        statement = statement.order_by(col.desc() if item.desc else col.asc())
    if not order:  # a stable order makes offset paging exact
        for name in table.primary_key:
            statement = statement.order_by(sa_table.c[name].asc())
    statement = statement.limit(limit + 1).offset(args.offset)
    async with source.reading() as conn:
        result = await conn.execute(statement)
        raw_rows = result.fetchall()
    return paginate(names, raw_rows, limit=limit, offset=args.offset, max_bytes=source.limits.max_result_bytes)


def paginate(columns: list[str], raw_rows: list[Any], *, limit: int, offset: int, max_bytes: int) -> Page:
    """Cut fetched rows to the page and the byte cap, and say exactly whether more exist."""
    more = len(raw_rows) > limit
    rows: list[list[Any]] = []
    size = 0
    truncated_by = "limit" if more else None
    for raw in raw_rows[:limit]:
        row = [to_json(value) for value in raw]
        size += len(json.dumps(row, ensure_ascii=False, default=str)) + 1
        if size > max_bytes:
            if not rows:
                raise TooLarge(
                    f"a single row is larger than this server's result cap of {max_bytes} bytes",
                    recovery_steps=["Select fewer or smaller columns (columns=[...]) so one row fits."],
                    details={"max_result_bytes": max_bytes},
                )
            truncated_by = "bytes"
            break
        rows.append(row)
    truncated = truncated_by is not None
    return Page(
        columns=columns,
        rows=rows,
        truncated=truncated,
        next_offset=offset + len(rows) if truncated else None,
        offset=offset,
        truncated_by=truncated_by,
    )


async def count_rows(source: Source, catalog: SchemaCatalog, args: CountArgs) -> int:
    table = await catalog.table(source, args.table)
    statement = sa.select(sa.func.count()).select_from(table.sa_table).where(*conditions(table, args.where))
    async with source.reading() as conn:
        return int((await conn.execute(statement)).scalar_one())
