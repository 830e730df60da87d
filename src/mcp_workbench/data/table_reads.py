"""Structured reads of one table: select and count built with SQLAlchemy Core from validated names.

Names come from :class:`~mcp_workbench.data.schema.TableInfo` (the database's own), values
are bound parameters, and SQLAlchemy quotes identifiers for the dialect. Pages are exact:
one row more than the page is fetched to know whether another page exists. Rows are read
within the memory bounds of :mod:`~mcp_workbench.data.readbounds` and the page is built off the
event loop (:meth:`Source.fetch`, :mod:`~mcp_workbench.data.paging`).
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from mcp_workbench.data.models import CountArgs, Filter, SelectArgs
from mcp_workbench.data.paging import RowPage, page_limit, page_of
from mcp_workbench.data.schema import SchemaCatalog, TableInfo
from mcp_workbench.data.sources import Source
from mcp_workbench.data.values import coerce

_BROWSE_SQL_KEPT = 32  # column/order combinations remembered per table


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


async def select_rows(source: Source, catalog: SchemaCatalog, args: SelectArgs) -> RowPage:
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


async def count_rows(source: Source, catalog: SchemaCatalog, args: CountArgs) -> int:
    table = await catalog.table(source, args.table)
    statement = sa.select(sa.func.count()).select_from(table.sa_table).where(*conditions(table, args.where))
    async with source.reading() as conn:
        return int((await conn.execute(statement)).scalar_one())
