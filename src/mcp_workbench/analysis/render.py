"""The gathered context as a model (or a calling agent) reads it, within the size caps.

Each item becomes a section: for rows, the server's profile of them and as many rows as fit;
for text, the text. An item longer than ``item_chars`` is cut there, and once the whole reaches
``total_chars`` the rest is cut or left out; every cut is said, in the text the model reads and
in the list returned to the caller. The rendered text is also what the checks hold a draft to:
its figures are the computed ones, its passages the quotable ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mcp_workbench.analysis.context import Gathered
from mcp_workbench.analysis.profile import number, profile_rows, profile_text

MIN_PART_CHARS = 200
CELL_CHARS = 80


@dataclass
class RenderedContext:
    text: str
    cut: list[str] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)


def render_context(gathered: Sequence[Gathered], task: str, *, item_chars: int, total_chars: int) -> RenderedContext:
    parts: list[str] = []
    cut: list[str] = []
    profiles: list[dict[str, Any]] = []
    used = 0
    for index, item in enumerate(gathered, start=1):
        name = f"[{index}] {item.label}"
        cut.extend(f"{name}: {note}" for note in item.cut)
        if item.tabular:
            profile = profile_rows(item.columns or [], item.rows or [], item.total_rows)
            profiles.append({"item": index, "label": item.label, "kind": "rows", "profile": profile})
            body = _rows_section(item, profile, item_chars, cut, name)
        else:
            text = item.text or ""
            profiles.append({"item": index, "label": item.label, "kind": "text", "profile": profile_text(text, task)})
            body = _cut_text(text, item_chars)
            if len(body) < len(text):
                cut.append(f"{name}: text after character {len(body):,} of {len(text):,} (the per-item cap)")
        section = f"## {name}\n{body}"
        room = total_chars - used
        if len(section) > room:
            if room < MIN_PART_CHARS:
                cut.append(f"{name}: left out, the context reached its total cap of {total_chars:,} characters")
                continue
            section = _cut_text(section, room)
            cut.append(f"{name}: cut at the context's total cap of {total_chars:,} characters")
        parts.append(section)
        used += len(section) + 2
    return RenderedContext("\n\n".join(parts), cut, profiles)


def _rows_section(item: Gathered, profile: dict[str, Any], item_chars: int, cut: list[str], name: str) -> str:
    lines = [f"Profile computed by the server over {profile.get('rows_profiled', profile['row_count'])} rows:"]
    lines.append(f"- rows: {profile['row_count']}")
    lines.extend(_column_line(column) for column in profile["columns"])
    head = "\n".join(lines)
    columns = item.columns or []
    rows = item.rows or []
    table = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    budget = item_chars - len(head) - 100
    shown = 0
    size = sum(len(line) + 1 for line in table)
    for row in rows:
        line = "| " + " | ".join(_cell(v) for v in row) + " |"
        if size + len(line) + 1 > budget:
            break
        table.append(line)
        size += len(line) + 1
        shown += 1
    total = profile["row_count"]
    if shown < len(rows):
        cut.append(f"{name}: rows after the first {shown:,} are profiled but not shown (the per-item cap)")
    caption = f"Rows ({shown} of {total}):" if shown < total else f"Rows (all {total}):"
    return f"{head}\n\n{caption}\n" + "\n".join(table) if columns else head


def _column_line(column: dict[str, Any]) -> str:
    parts = [f"{column['nulls']} nulls", f"{column['distinct']} distinct"]
    stats = [f"{key} {_value(column[key])}" for key in ("min", "max", "mean", "sum", "stdev") if key in column]
    if quantiles := column.get("quantiles"):
        stats.extend(f"{key} {number(value)}" for key, value in quantiles.items())
    if stats:
        parts.append(", ".join(stats))
    if outliers := column.get("outliers"):
        examples = ", ".join(_value(v) for v in outliers["examples"])
        parts.append(f"outliers: {outliers['count']} {outliers['rule']}, e.g. {examples}")
    if top := column.get("top"):
        shown = ", ".join(f"{_cell(t['value'])} ×{t['count']} ({number(round(t['share'] * 100, 2))}%)" for t in top)
        parts.append(f"most frequent: {shown}")
    return f"- {column['name']} ({column['type']}): " + "; ".join(parts)


def _value(value: Any) -> str:
    return number(value) if isinstance(value, int | float) and not isinstance(value, bool) else _cell(value)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return number(value)
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _cut_text(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a line or word boundary when one is near."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for boundary in ("\n", " "):
        at = head.rfind(boundary)
        if at >= limit * 0.8:
            return head[:at]
    return head
