"""Readable text for the model, next to the structured result.

Some clients show the model only the text content, so the text carries the whole answer:
a compact pipe table for rows, and one closing line that says how to continue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import anyio.to_thread
from pydantic_core import to_json

from mcp_workbench.data.paging import RowPage
from mcp_workbench.data.schema import TableInfo
from mcp_workbench.data.search import SearchResult
from mcp_workbench.data.values import finite_numbers
from mcp_workbench.data.writes import WriteOutcome

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


def page_text(page: RowPage, what: str, *, paged_by_offset: bool = True) -> str:
    if not page.rows:
        head = f"No rows from {what}."
        return head if not page.truncated else head + " " + _continue(page, paged_by_offset)
    first = page.offset + 1
    last = page.offset + len(page.rows)
    head = f"Rows {first}-{last} from {what}:" if page.offset else f"{len(page.rows)} row(s) from {what}:"
    parts = [head, table_text(page.columns, page.rows, by_column=page.by_column)]
    parts.append(_continue(page, paged_by_offset) if page.truncated else "These are all the rows.")
    return "\n".join(parts)


def _continue(page: RowPage, paged_by_offset: bool) -> str:
    reason = "the result size cap" if page.truncated_by == "bytes" else "the page limit"
    if paged_by_offset and page.next_offset is not None:
        return f"More rows exist (cut at {reason}): call again with offset={page.next_offset} for the next page."
    return f"More rows exist (cut at {reason}): narrow the statement or add LIMIT/OFFSET to it to page."


def json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


# Pages whose JSON is larger than this get their text table built in a worker thread: a large
# page would hold the event loop for milliseconds; a small one costs less than the thread hop.
_TEXT_IN_THREAD_BYTES = 64 * 1024


async def page_text_off_loop(page: RowPage, what: str, *, paged_by_offset: bool = True) -> str:
    """:func:`page_text`, in a worker thread when the page is large."""
    if page.json_bytes <= _TEXT_IN_THREAD_BYTES:
        return page_text(page, what, paged_by_offset=paged_by_offset)
    return await anyio.to_thread.run_sync(lambda: page_text(page, what, paged_by_offset=paged_by_offset))


def sources_text(listed: list[dict[str, Any]]) -> str:
    lines = [f"{s['name']}: {s['engine']}{' (read-only)' if s['read_only'] else ''}" for s in listed]
    return "Data sources:\n" + "\n".join(lines)


def tables_text(source: str, read_only: bool, listed: list[dict[str, str]]) -> str:
    if not listed:
        return f"Source '{source}' has no tables yet." + (
            "" if read_only else " Create one with data_write operation 'create_table'."
        )
    return f"Tables of '{source}':\n" + "\n".join(
        f"{t['name']}{' (view)' if t['kind'] == 'view' else ''}" for t in listed
    )


def describe_text(source: str, table: TableInfo) -> str:
    rows = [
        [c.name, c.type, "yes" if c.nullable else "no", c.default, "PK" if c.primary_key else ""] for c in table.columns
    ]
    text = f"{table.kind.capitalize()} '{table.name}' in '{source}':\n" + table_text(
        ["column", "type", "nullable", "default", "key"], rows
    )
    if table.indexes:
        text += "\nIndexes: " + "; ".join(f"{i['name']}({', '.join(i['columns'] or [])})" for i in table.indexes)
    if table.foreign_keys:
        text += "\nForeign keys: " + "; ".join(
            f"{', '.join(f['columns'])} -> {f['references_table']}({', '.join(f['references_columns'])})"
            for f in table.foreign_keys
        )
    return text


def search_text(found: SearchResult) -> str:
    query = found.query
    if not found.hits:
        text = f"No match for {query!r} in {len(found.tables_searched)} table(s)."
    else:
        lines = [f"{len(found.hits)} match(es) for {query!r}:"]
        lines += [f"[{hit['table']}] {json_text(hit['row']).replace(chr(10), '')}" for hit in found.hits]
        text = "\n".join(lines)
    if found.truncated:
        text += "\nMore matches exist: narrow the query, name a table, or raise limit."
    if found.partial_tables:
        text += f"\nOnly the first rows of {', '.join(found.partial_tables)} were scanned (no full-text index)."
    return text


_VERBS = {
    "insert": "inserted",
    "update": "updated",
    "delete": "deleted",
    "create_table": "created",
    "drop_table": "dropped",
}


def write_text(outcome: WriteOutcome) -> str:
    verb = _VERBS[outcome.operation]
    if outcome.operation in ("create_table", "drop_table"):
        done = outcome.extra.get("created", outcome.extra.get("dropped", True))
        if outcome.dry_run:
            text = f"Dry run: table '{outcome.table}' would be {verb}; nothing was changed."
        elif done:
            text = f"Table '{outcome.table}' {verb}."
        else:
            text = f"Nothing to do: table '{outcome.table}' {outcome.extra.get('reason')}."
        if "ddl" in outcome.extra:
            text += f"\n{outcome.extra['ddl']}"
        if outcome.extra.get("rows_lost"):
            text += f"\nRows {'that would be' if outcome.dry_run else ''} lost: {outcome.extra['rows_lost']}."
        return text
    if outcome.dry_run:
        return f"Dry run: {outcome.affected} row(s) in '{outcome.table}' would be {verb}; nothing was changed."
    return f"{outcome.affected} row(s) {verb} in '{outcome.table}'."
