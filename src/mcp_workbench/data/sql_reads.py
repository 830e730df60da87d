"""Running one caller-written read-only statement, with a row cap and a byte cap.

The statement is checked by :mod:`~mcp_workbench.data.sql_check`, then wrapped as ``SELECT * FROM (<sql>) LIMIT
n+1`` so the database stops after one row more than the page (EXPLAIN output is small and
is not wrapped). It runs on the source's read-only connection with the statement budget and
the memory bounds of :mod:`~mcp_workbench.data.readbounds`.
"""

from __future__ import annotations

import functools

from mcp_workbench.data.models import SqlArgs
from mcp_workbench.data.paging import RowPage, page_limit, page_of
from mcp_workbench.data.sources import Source
from mcp_workbench.data.sql_check import CheckedSql, check_read_only
from mcp_workbench.data.values import check_params
from mcp_workbench.platform.errors import InvalidInput

_CACHED_SQL_CHARS = 4096  # statements up to this long have their checks remembered


@functools.lru_cache(maxsize=128)
def _checked(sql: str, dialect: str, allow: frozenset[str]) -> CheckedSql:
    return check_read_only(sql, dialect, allow)


def checked_sql(sql: str, dialect: str, allow: frozenset[str] = frozenset()) -> CheckedSql:
    """:func:`check_read_only`, remembered for recent short statements (the check is a pure
    function of the text, the dialect and the source's allowed functions; a refused statement
    raises every time)."""
    return _checked(sql, dialect, allow) if len(sql) <= _CACHED_SQL_CHARS else check_read_only(sql, dialect, allow)


async def run_sql(source: Source, args: SqlArgs) -> RowPage:
    checked = checked_sql(args.sql, source.dialect, source.allow_functions)
    if checked.placeholders != len(args.params):
        raise InvalidInput(
            f"the statement has {checked.placeholders} placeholder(s) but {len(args.params)} param(s) were given",
            recovery_steps=["Give exactly one value in params for each ? in the statement, in order."],
            details={"placeholders": checked.placeholders, "params": len(args.params)},
        )
    check_params(args.params, source.dialect)
    limit = page_limit(args.limit, source.limits)
    statement = (
        checked.sql if checked.explain else f"SELECT * FROM (\n{checked.sql}\n) AS workbench_q LIMIT {limit + 1}"
    )
    finish = functools.partial(page_of, limit=limit, offset=0, max_bytes=source.limits.max_result_bytes)
    page = await source.fetch(statement, args.params, limit + 1, finish, bounded=not checked.explain)
    page.next_offset = None  # free SQL pages by LIMIT/OFFSET in the statement itself
    return page
