"""Structured reads: select and count built with SQLAlchemy Core from validated names.

Names come from :class:`~mcp_workbench.data.schema.TableInfo` (the database's own), values
are bound parameters, and SQLAlchemy quotes identifiers for the dialect. Pages are exact:
one row more than the page is fetched to know whether another page exists. Rows are read
within the memory bounds of :mod:`~mcp_workbench.data.readbounds` and the page is built off the
event loop (:meth:`Source.fetch`).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_json as to_json_bytes

from mcp_workbench.data.models import CountArgs, Filter, SelectArgs
from mcp_workbench.data.schema import SchemaCatalog, TableInfo
from mcp_workbench.data.settings import DataSettings
from mcp_workbench.data.sources import Source
from mcp_workbench.data.values import coerce, column_to_json
from mcp_workbench.platform.errors import InvalidInput, TooLarge

_BROWSE_SQL_KEPT = 32  # column/order combinations remembered per table


@dataclass
class Page:
    """Rows of one page and how to get the next."""

    columns: list[str]
    rows: Sequence[Sequence[Any]]
    truncated: bool
    next_offset: int | None
    offset: int = 0
    truncated_by: str | None = None  # "limit" | "bytes"
    # the same values a column at a time (for the text table), when paginate has them
    by_column: list[Sequence[Any]] | None = None
    json_bytes: int = 0  # the size of ``rows`` as JSON

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
            assert isinstance(condition.value, list)  # Filter's validator: a non-empty list for in/not_in
            values = [coerce(v, info.sa_type, info.name) for v in condition.value]
            clauses.append(col.in_(values) if op == "in" else col.not_in(values))
        elif op == "like":
            clauses.append(col.like(condition.value))
        else:
            value = coerce(condition.value, info.sa_type, info.name)
            clauses.append(_compare(col, op, value))
    return clauses


def _compare(col: sa.ColumnElement[Any], op: str, value: object) -> sa.ColumnElement[bool]:
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
    names = [table.column(name).name for name in args.columns] if args.columns else [c.name for c in table.columns]
    order = [(table.column(item.column).name, item.desc) for item in args.order_by or []]
    # Without filters the SQL depends only on the columns and the order: it is made once per
    # table description (a schema change makes a new one) and bound to limit/offset.
    key = (tuple(names), tuple(order))
    sql = table.browse_sql.get(key) if not args.where else None
    if sql is not None:
        params: list[Any] = [limit + 1, args.offset]
    else:
        statement = _select(table, names, order, args.where, limit=limit, offset=args.offset)
        sql, params = _driver_sql(statement, source.sa_dialect())
        if not args.where and params == [limit + 1, args.offset] and len(table.browse_sql) < _BROWSE_SQL_KEPT:
            table.browse_sql[key] = sql
    # values come back as the driver returns them; each column's converter runs once per page
    finish = functools.partial(
        page_of,
        limit=limit,
        offset=args.offset,
        max_bytes=source.limits.max_result_bytes,
        converters=functools.partial(table.result_processors, names, source.sa_dialect()),
        names=names,
    )
    return await source.fetch(sql, params, limit + 1, finish)


def _select(
    table: TableInfo, names: list[str], order: list[tuple[str, bool]], where: list[Filter], *, limit: int, offset: int
) -> sa.Select[Any]:
    sa_table = table.sa_table
    statement = sa.select(*table.readable(names)).where(*conditions(table, where))
    for name, desc in order:
        statement = statement.order_by(sa_table.c[name].desc() if desc else sa_table.c[name].asc())
    if not order:  # a stable order makes offset paging exact
        for name in table.primary_key:
            statement = statement.order_by(sa_table.c[name].asc())
    return statement.limit(limit + 1).offset(offset)


def _driver_sql(statement: sa.Select[Any], dialect: Any) -> tuple[str, list[Any]]:
    """The statement as SQL text and positional driver parameters (bind processors applied);
    IN lists are expanded into one parameter per value."""
    compiled = statement.compile(dialect=dialect)
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        state = compiled.construct_expanded_state()
        sql, names, values, expanded = state.statement, state.positiontup or [], state.parameters, state.processors
    else:
        sql, names, values, expanded = compiled.string, compiled.positiontup or [], compiled.construct_params(), {}
    params = []
    for name in names:
        bind = binds.get(name)
        process = bind.type.dialect_impl(dialect).bind_processor(dialect) if bind is not None else expanded.get(name)
        params.append(values[name] if process is None else process(values[name]))
    return sql, params


def page_of(
    columns: list[str],
    raw_rows: Sequence[Any],
    cut: bool,
    types: list[Any],
    *,
    limit: int,
    offset: int,
    max_bytes: int,
    converters: Callable[[list[Any]], Sequence[Callable[[Any], Any] | None]] | None = None,
    names: list[str] | None = None,
) -> Page:
    """:func:`paginate` as a ``finish`` of :meth:`Source.fetch`: ``converters`` gives each
    column's converter from the driver's type codes; ``names``: the columns to show instead of
    the driver's."""
    return paginate(
        names or columns,
        raw_rows,
        limit=limit,
        offset=offset,
        max_bytes=max_bytes,
        converters=converters(types) if converters is not None else None,
        cut=cut,
    )


def paginate(
    columns: list[str],
    raw_rows: Sequence[Any],
    *,
    limit: int,
    offset: int,
    max_bytes: int,
    converters: Sequence[Callable[[Any], Any] | None] | None = None,
    cut: bool = False,
) -> Page:
    """Cut fetched rows to the page and the byte cap, and say exactly whether more exist.

    ``cut``: the fetch stopped at its page budget, so rows may exist past the last one; the
    budget is set so that such rows are always over ``max_bytes`` too, and are cut here (when
    they are not, the page is cut after its last row).

    Values are converted (``converters``, one per column) and made JSON-safe a column at a
    time (see :func:`column_to_json`). A row's size is
    its compact JSON in UTF-8 plus one byte for the comma after it, so the sizes of a page add
    up to the JSON of its ``rows``; the page is measured in one go and rows are measured one by
    one only when it does not fit.
    """
    more = len(raw_rows) > limit
    page_rows = raw_rows[:limit]
    fetched: list[Sequence[Any]] = list(zip(*page_rows, strict=True))
    by_column = fetched
    if converters is not None and by_column:
        by_column = [
            values if convert is None else list(map(convert, values))
            for values, convert in zip(by_column, converters, strict=True)
        ]
    by_column = [column_to_json(values) for values in by_column]
    rows: Sequence[Sequence[Any]]
    if page_rows and type(page_rows[0]) is tuple and all(map(operator.is_, by_column, fetched)):
        rows = page_rows  # the driver's tuples are JSON-safe as they are (a JSON array each)
    else:
        rows = list(map(list, zip(*by_column, strict=True))) if by_column else [[] for _ in page_rows]
    truncated_by = "limit" if more else None
    # a page cut by the fetch budget is over max_bytes: measured row by row, not encoded whole
    json_bytes = max_bytes + 1 if cut else len(to_json_bytes(rows)) - 1 if rows else 0
    if json_bytes > max_bytes:
        kept = _rows_within(rows, max_bytes)
        if not kept:
            raise TooLarge(
                f"a single row is larger than this server's result cap of {max_bytes} bytes",
                recovery_steps=["Select fewer or smaller columns (columns=[...]) so one row fits."],
                details={"max_result_bytes": max_bytes},
            )
        rows = rows[:kept]
        by_column = [values[:kept] for values in by_column]
        truncated_by = "bytes"
        json_bytes = max_bytes  # at most
    truncated = truncated_by is not None
    return Page(
        columns=columns,
        rows=rows,
        truncated=truncated,
        next_offset=offset + len(rows) if truncated else None,
        offset=offset,
        truncated_by=truncated_by,
        by_column=by_column if by_column else None,
        json_bytes=json_bytes,
    )


def _rows_within(rows: Sequence[Sequence[Any]], max_bytes: int) -> int:
    """How many leading rows fit in ``max_bytes`` (each row counts its JSON and a comma)."""
    size = 0
    for kept, row in enumerate(rows):
        size += len(to_json_bytes(row)) + 1
        if size > max_bytes:
            return kept
    return len(rows)


async def count_rows(source: Source, catalog: SchemaCatalog, args: CountArgs) -> int:
    table = await catalog.table(source, args.table)
    statement = sa.select(sa.func.count()).select_from(table.sa_table).where(*conditions(table, args.where))
    async with source.reading() as conn:
        return int((await conn.execute(statement)).scalar_one())
