"""One page of rows: the row cap a call may ask for, and fetched rows cut to the page and the
byte cap, with an exact answer to whether more exist.

Both kinds of read page this way: the structured ones (:mod:`~mcp_workbench.data.table_reads`)
and caller-written SQL (:mod:`~mcp_workbench.data.sql_reads`). A page is built off the event
loop, as the ``finish`` of :meth:`~mcp_workbench.data.sources.Source.fetch`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json as to_json_bytes

from mcp_workbench.data.settings import DataSettings
from mcp_workbench.data.values import column_to_json
from mcp_workbench.platform.errors import InvalidInput, TooLarge


@dataclass
class RowPage:
    """Rows of one page and how to get the next."""

    columns: list[str]
    rows: Sequence[Sequence[Any]]
    truncated: bool
    next_offset: int | None
    offset: int = 0
    truncated_by: str | None = None  # "limit" | "bytes"
    # the same values a column at a time (for the text table), when paginate_rows has them
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
) -> RowPage:
    """:func:`paginate_rows` as a ``finish`` of :meth:`Source.fetch`: ``converters`` gives each
    column's converter from the driver's type codes; ``names``: the columns to show instead of
    the driver's."""
    return paginate_rows(
        names or columns,
        raw_rows,
        limit=limit,
        offset=offset,
        max_bytes=max_bytes,
        converters=converters(types) if converters is not None else None,
        cut=cut,
    )


def paginate_rows(
    columns: list[str],
    raw_rows: Sequence[Any],
    *,
    limit: int,
    offset: int,
    max_bytes: int,
    converters: Sequence[Callable[[Any], Any] | None] | None = None,
    cut: bool = False,
) -> RowPage:
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
    return RowPage(
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
