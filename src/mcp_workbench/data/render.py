"""Readable text for the model, next to the structured result.

Some clients show the model only the text content, so the text carries the whole answer:
a compact pipe table for rows, and one closing line that says how to continue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic_core import to_json

from mcp_workbench.data.query import Page
from mcp_workbench.data.values import finite_numbers

_CELL_CHARS = 300
_NONE = type(None)
# How a scalar reads in a cell: what json.dumps writes for it (for a float, a finite one).
_SCALAR_TEXT: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    float: float.__repr__,
    bool: lambda value: "true" if value else "false",
    _NONE: lambda _value: "NULL",
}


def cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"


def column_cells(values: Sequence[Any]) -> Sequence[str]:
    """:func:`cell` over one column of values, with the work chosen once per column.

    A column of strings (and NULLs) is escaped and shortened only when some value needs it; a
    column of numbers is formatted without the JSON encoder; anything else goes cell by cell.
    """
    types = set(map(type, values))
    if types <= {str, _NONE}:
        texts: Sequence[str] = values if _NONE not in types else ["NULL" if v is None else v for v in values]
        joined = "".join(texts)
        if "\\" in joined or "|" in joined or "\n" in joined:
            texts = [t.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n") for t in texts]
        if texts and max(map(len, texts)) > _CELL_CHARS:
            texts = [t if len(t) <= _CELL_CHARS else t[: _CELL_CHARS - 1] + "…" for t in texts]
        return texts
    if types <= _SCALAR_TEXT.keys() and (float not in types or finite_numbers(values)):
        if _NONE not in types and (float not in types or _plain_floats(values)):
            # one encoder call for the column; for these numbers it writes what repr() does
            texts = to_json(values).decode()[1:-1].split(",")
        elif len(types) == 1:
            texts = list(map(_SCALAR_TEXT[types.pop()], values))
        else:
            texts = [_SCALAR_TEXT[type(v)](v) for v in values]
        if max(map(len, texts)) > _CELL_CHARS:  # a very large integer
            texts = [t if len(t) <= _CELL_CHARS else t[: _CELL_CHARS - 1] + "…" for t in texts]
        return texts
    return [cell(v) for v in values]


def _plain_floats(values: Sequence[Any]) -> bool:
    """True when every number is 0 or has a magnitude in [1e-4, 1e16): there repr() and
    pydantic_core's encoder write the same shortest decimal, without an exponent."""
    return max(map(abs, values)) < 1e16 and min(map(abs, filter(None, values)), default=1.0) >= 1e-4


def table_text(
    columns: list[str], rows: Sequence[Sequence[Any]], *, by_column: Sequence[Sequence[Any]] | None = None
) -> str:
    """A pipe table: a header line, then one line per row (``by_column``: the rows' values
    a column at a time, when the caller has them)."""
    lines = [" | ".join(cell(c) for c in columns)]
    if rows:
        by_column = [column_cells(values) for values in (by_column or zip(*rows, strict=True))]
        lines += map(" | ".join, zip(*by_column, strict=True)) if by_column else ["" for _ in rows]
    return "\n".join(lines)


def page_text(page: Page, what: str, *, paged_by_offset: bool = True) -> str:
    if not page.rows:
        head = f"No rows from {what}."
        return head if not page.truncated else head + " " + _continue(page, paged_by_offset)
    first = page.offset + 1
    last = page.offset + len(page.rows)
    head = f"Rows {first}-{last} from {what}:" if page.offset else f"{len(page.rows)} row(s) from {what}:"
    parts = [head, table_text(page.columns, page.rows, by_column=page.by_column)]
    parts.append(_continue(page, paged_by_offset) if page.truncated else "These are all the rows.")
    return "\n".join(parts)


def _continue(page: Page, paged_by_offset: bool) -> str:
    reason = "the result size cap" if page.truncated_by == "bytes" else "the page limit"
    if paged_by_offset and page.next_offset is not None:
        return f"More rows exist (cut at {reason}): call again with offset={page.next_offset} for the next page."
    return f"More rows exist (cut at {reason}): narrow the statement or add LIMIT/OFFSET to it to page."


def json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)
