"""Readable text for the model, next to the structured result.

Some clients show the model only the text content, so the text carries the whole answer:
a compact pipe table for rows, and one closing line that says how to continue.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_workbench.data.query import Page

_CELL_CHARS = 300


def cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"


def table_text(columns: list[str], rows: list[list[Any]]) -> str:
    lines = [" | ".join(cell(c) for c in columns)]
    lines += [" | ".join(cell(v) for v in row) for row in rows]
    return "\n".join(lines)


def page_text(page: Page, what: str, *, paged_by_offset: bool = True) -> str:
    if not page.rows:
        head = f"No rows from {what}."
        return head if not page.truncated else head + " " + _continue(page, paged_by_offset)
    first = page.offset + 1
    last = page.offset + len(page.rows)
    head = f"Rows {first}-{last} from {what}:" if page.offset else f"{len(page.rows)} row(s) from {what}:"
    parts = [head, table_text(page.columns, page.rows)]
    parts.append(_continue(page, paged_by_offset) if page.truncated else "These are all the rows.")
    return "\n".join(parts)


def _continue(page: Page, paged_by_offset: bool) -> str:
    reason = "the result size cap" if page.truncated_by == "bytes" else "the page limit"
    if paged_by_offset and page.next_offset is not None:
        return f"More rows exist (cut at {reason}): call again with offset={page.next_offset} for the next page."
    return f"More rows exist (cut at {reason}): narrow the statement or add LIMIT/OFFSET to it to page."


def json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)
