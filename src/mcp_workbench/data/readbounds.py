"""How much memory one read may take, and the fetch that keeps to it.

A read's result is cut at ``max_result_bytes`` of JSON, but a statement can ask the database
for far more than that (``zeroblob(10^9)``, ``repeat('x', 10^8)``, a thousand large columns,
a million-row CTE). These bounds stop such a read before the large thing is built in this
process, not after:

- **value bound** (``4 × max_result_bytes``): on SQLite the engine itself refuses any string or
  blob longer than this (``SQLITE_LIMIT_LENGTH`` on read connections), before Python sees it.
  A value longer than the result cap could never be answered anyway; the headroom lets
  ``length()``/``substr()``/``LIKE`` work on stored values somewhat over the cap.
- **row bound** (PostgreSQL): the server refuses a row whose text form is over the value bound
  (the read is wrapped, see :func:`pg_bounded`), so the driver never receives it.
- **page budget** (``4 × max_result_bytes``): rows are taken from the driver while their running
  size stays within the budget; the row that crosses it is the last one taken. On SQLite
  (:func:`sqlite_rows`, in the connection's thread) a read first runs with a per-value bound
  small enough that all the rows it may return fit in the budget together, and is fetched in
  one go; only when a value is over that is it run again with the value bound and taken row by
  row, measuring each (:func:`take_rows`). On PostgreSQL the server adds the running size up and
  sends nothing past the crossing row. A row's measured size is at most 2.5× its JSON, so rows
  that cross the budget are also over the byte cap: the exact cut by ``max_result_bytes`` still
  decides the page, and paging stays exact.
- **SQLite heap** (``max(64 MiB, 16 × value bound)``, process-wide, the lowest configured wins):
  SQLite's own allocations are capped (``PRAGMA hard_heap_limit``), which bounds a row of many
  large values; caches give way first (``soft_heap_limit`` at half of it).

A read over a bound answers TOO_LARGE; nothing is half-built. What one read call holds is then
the page budget, the crossing row and the converted page: about 40 × ``max_result_bytes`` at
worst (the README's Safety section; ``bench/memory.py`` measures it).
"""

from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp_workbench.data.settings import DataSettings
from mcp_workbench.platform.errors import TooLarge

T = TypeVar("T")
# What a bounded fetch (:meth:`~mcp_workbench.data.sources.Source.fetch`) hands its ``finish``:
# column names, rows, whether the page budget stopped it, and the driver's type code of each
# column (None on SQLite).
Finish = Callable[[list[str], list[Any], bool, list[Any]], T]

_MIN_HEAP_BYTES = 64 * 1024 * 1024
# Below this per-value bound a whole-page fetch is not worth trying: read row by row at once.
_MIN_SMALL_VALUE_BYTES = 64
# Columns assumed before the statement's own are known (its first row is read with this).
_FIRST_ROW_COLUMNS = 16
# The marker the PostgreSQL row bound raises with (an integer cast of this text fails).
ROW_OVER_BOUND = "workbench_row_over_bound"
_PG_EXTRA_COLUMNS = 2  # workbench_size, workbench_upto


@dataclass(frozen=True)
class ReadBounds:
    value_bytes: int
    page_bytes: int
    heap_bytes: int

    @classmethod
    def of(cls, limits: DataSettings) -> ReadBounds:
        value = 4 * limits.max_result_bytes
        heap = max(_MIN_HEAP_BYTES, 16 * value)
        return cls(value_bytes=value, page_bytes=4 * limits.max_result_bytes, heap_bytes=heap)


def take_rows(rows: Iterable[tuple[Any, ...]], max_rows: int, budget: int) -> tuple[list[Any], bool]:
    """Up to ``max_rows`` rows while their running size is within ``budget``; and whether the
    budget stopped it (then the last row taken is the one that crossed it).

    A row's size is its ``marshal`` length (format 2: no back-references), one C call per row;
    for the values a driver returns it is within 2.5× of the row's JSON either way.
    """
    taken: list[Any] = []
    keep = taken.append
    dumps = marshal.dumps
    held = 0
    for row in rows:
        keep(row)
        held += len(dumps(row, 2))
        if held > budget:
            return taken, True
        if len(taken) >= max_rows:
            break
    return taken, False


def sqlite_rows(
    db: sqlite3.Connection, sql: str, params: tuple[Any, ...], max_rows: int, bounds: ReadBounds
) -> tuple[Sequence[Any], list[Any], bool]:
    """In the connection's thread: the statement's description, up to ``max_rows`` rows within
    the page budget, and whether the budget stopped it.

    The fast way: with ``SQLITE_LIMIT_LENGTH`` at ``budget / (rows × columns)`` no page can be
    over the budget, so the rows are fetched in one go, unmeasured. A value over that small
    bound (SQLITE_TOOBIG, often just a long text) makes SQLite stop the statement; it is then
    run again at the value bound and taken row by row (:func:`take_rows`). The connection is
    left at the value bound either way.
    """
    small = bounds.page_bytes // (max_rows * _FIRST_ROW_COLUMNS)
    if small >= _MIN_SMALL_VALUE_BYTES:
        try:
            db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, small)
            cursor = db.execute(sql, params)
            try:
                description = cursor.description or ()
                small = bounds.page_bytes // (max_rows * max(1, len(description)))
                if small >= _MIN_SMALL_VALUE_BYTES:
                    db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, small)
                    return description, cursor.fetchmany(max_rows), False
            finally:
                cursor.close()
        except sqlite3.DataError as exc:
            if "too big" not in str(exc):
                raise
        finally:
            db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, bounds.value_bytes)
    cursor = db.execute(sql, params)
    try:
        rows, cut = take_rows(cursor, max_rows, bounds.page_bytes)
        return cursor.description or (), rows, cut
    finally:
        cursor.close()


def pg_bounded(sql: str, bounds: ReadBounds) -> str:
    """``sql`` wrapped so that PostgreSQL sends rows only while their running text size is within
    the page budget (the crossing row included) and refuses a row over the value bound.

    Two columns are added at the end (a row's size and the running size up to it), taken off
    again by :func:`pg_rows`. The statement's own row order is kept (no ORDER BY is added).
    """
    return (
        "SELECT * FROM (SELECT workbench_w.*, sum(workbench_w.workbench_size) OVER (ROWS UNBOUNDED PRECEDING)"
        " AS workbench_upto FROM (SELECT workbench_b.*, octet_length(workbench_b::text) AS workbench_size"
        f" FROM (\n{sql}\n) AS workbench_b) AS workbench_w) AS workbench_r"
        f" WHERE CASE WHEN workbench_r.workbench_upto - workbench_r.workbench_size > {bounds.page_bytes} THEN false"
        f" WHEN workbench_r.workbench_size > {bounds.value_bytes}"
        f" THEN CAST('{ROW_OVER_BOUND} ' || workbench_r.workbench_size AS integer) IS NULL ELSE true END"
    )


def pg_rows(
    description: Sequence[Sequence[Any]], rows: Sequence[Sequence[Any]], budget: int
) -> tuple[list[Sequence[Any]], list[Any], bool]:
    """The column descriptions and rows of a :func:`pg_bounded` read without the added columns,
    and whether the page budget stopped it."""
    cut = bool(rows) and rows[-1][-1] > budget
    keep = len(description) - _PG_EXTRA_COLUMNS
    return list(description[:keep]), [tuple(row[:keep]) for row in rows], cut


def value_too_large(bounds: ReadBounds, source: str, message: str) -> TooLarge:
    return TooLarge(
        f"a value or row of the result is larger than this server's bound of {bounds.value_bytes} bytes",
        recovery_steps=[
            (
                "Leave the large column out (columns=[...] or a narrower SELECT list), or select a part of it "
                "(substr(col, 1, 1000)) or its length."
            ),
            "If a stored value itself is over the bound, ask the operator to raise data.max_result_bytes.",
        ],
        details={"source": source, "value_bound_bytes": bounds.value_bytes, "database_error": message},
    )
