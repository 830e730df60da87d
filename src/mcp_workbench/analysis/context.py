"""Gathering the context of an analysis: the seam to the other capabilities, and the size caps.

Each kind of context item (``sql``, ``table``, ``file``, ``url``, ``text``) is gathered by a
:class:`ContextGatherer`: a ``text`` item by :class:`TextGatherer` here; the others by
gatherers that reach the data, files and web services on the caller's behalf (their scopes,
their safety: read-only SQL, the sandbox, the SSRF guard), handed to the analysis service by
the composition root. A server without a gatherer for a kind answers a call that uses it with
VALIDATION_ERROR naming the kinds it has, before gathering anything.

A gatherer returns text, or rows with their column names, and says what it cut. The caps on
what reaches a model (per item, in total) are applied when the context is rendered
(:mod:`.render`), which says what they cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from mcp_workbench.analysis.models import ContextItem, FileItem, SqlItem, TableItem, TextItem, UrlItem
from mcp_workbench.platform.errors import InvalidInput, WorkbenchError

if TYPE_CHECKING:
    from mcp_workbench.platform.identity import Caller


@dataclass
class Gathered:
    """One context item as gathered: ``text``, or tabular ``columns`` and ``rows``."""

    label: str
    text: str | None = None
    columns: list[str] | None = None
    rows: list[list[Any]] | None = None
    total_rows: int | None = None
    """Rows the source holds, when the gatherer knows there are more than it returned."""
    cut: list[str] = field(default_factory=list)
    """What was left out, in words for the model ("rows after the 1,000th")."""

    @property
    def tabular(self) -> bool:
        return self.rows is not None


class ContextGatherer(Protocol):
    """Gathers one kind of context item for ``caller``, within the caller's scopes.

    Raises the capability's own errors (NOT_FOUND for a missing table, PERMISSION_DENIED for a
    writing statement or a scope the caller lacks): the analysis fails with that error, as the
    tool of that capability would.
    """

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered: ...


class TextGatherer:
    """``text`` items: the text as given."""

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered:
        assert isinstance(item, TextItem)
        return Gathered(label=describe(item), text=item.text)


def describe(item: ContextItem) -> str:
    """A short label for an item, as the caller wrote it."""
    if isinstance(item, SqlItem):
        sql = " ".join(item.sql.split())
        return f"sql on {item.source}: {sql[:120]}{'…' if len(sql) > 120 else ''}"
    if isinstance(item, TableItem):
        return f"table {item.table} of {item.source}"
    if isinstance(item, FileItem):
        return f"file {item.root}:{item.path}"
    if isinstance(item, UrlItem):
        return f"page {item.url[:200]}"
    return f"text: {item.title}" if item.title else "text"


def require_gatherers(items: Sequence[ContextItem], gatherers: Mapping[str, ContextGatherer]) -> None:
    """Refuse, before gathering anything, a call with a kind this server cannot gather."""
    missing = sorted({item.kind for item in items if item.kind not in gatherers})
    if not missing:
        return
    available = sorted(gatherers)
    raise InvalidInput(
        f"context kind {' and '.join(repr(kind) for kind in missing)} is unavailable on this server",
        recovery_steps=[
            f"Use only the context kinds this server can gather: {', '.join(available)}.",
            (
                "Or read the content with another tool (data_read, files_read, web_fetch) and pass what matters "
                "as a context item of kind 'text'."
            ),
        ],
        details={"field": "context", "unavailable": missing, "available": available},
    )


async def gather_all(
    items: Sequence[ContextItem], caller: Caller, gatherers: Mapping[str, ContextGatherer], *, max_rows: int
) -> list[Gathered]:
    """Every item, gathered at once, in the order given; rows past ``max_rows`` are cut."""
    require_gatherers(items, gatherers)
    gathered: list[Gathered | None] = [None] * len(items)

    async def one(index: int, item: ContextItem) -> None:
        result = await gatherers[item.kind].gather(item, caller)
        result.label = describe(item)
        gathered[index] = _capped_rows(result, max_rows)

    try:
        async with anyio.create_task_group() as group:
            for index, item in enumerate(items):
                group.start_soon(one, index, item)
    except ExceptionGroup as failed:  # one item's refusal is the call's answer, as that capability's tool gives it
        refusal = _first_refusal(failed)
        if refusal is None:
            raise
        raise refusal from None
    return [g for g in gathered if g is not None]


def _first_refusal(group: BaseExceptionGroup[BaseException]) -> WorkbenchError | None:
    for error in group.exceptions:
        if isinstance(error, WorkbenchError):
            return error
        if isinstance(error, BaseExceptionGroup) and (inner := _first_refusal(error)) is not None:
            return inner
    return None


def _capped_rows(gathered: Gathered, max_rows: int) -> Gathered:
    if gathered.rows is None or len(gathered.rows) <= max_rows:
        return gathered
    total = max(gathered.total_rows or 0, len(gathered.rows))
    gathered.rows = gathered.rows[:max_rows]
    gathered.total_rows = total
    gathered.cut.append(f"rows after the first {max_rows:,} (of {total:,}) are not profiled")
    return gathered
