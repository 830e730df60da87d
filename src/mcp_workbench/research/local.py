"""The caller's own databases and files as research sources.

They reach the data and files capabilities only through the readers those offer
(:class:`~mcp_workbench.data.port.DataReader`, :class:`~mcp_workbench.files.port.FilesReader`),
which the adapter hands over only when the caller's key holds ``data:read`` / ``files:read``: a
research call finds no further into them than the caller could with ``data_read`` or
``files_read``. Each sub-question is asked as its most specific terms, one search per term;
an item that matches more of the terms ranks first, and its ``uri`` is a resource the client
can read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio

from mcp_workbench.data.port import DataReader
from mcp_workbench.files.port import FilesReader, LineMatch
from mcp_workbench.platform.errors import WorkbenchError
from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.sources.base import SearchContext
from mcp_workbench.research.text import clip

TERMS_ASKED = 3
"""Search terms per sub-question: its most specific ones (each is one search)."""

EXCERPT_CHARS = 600


@dataclass
class _Found:
    """One item (a file, a row) and which of the terms it matched."""

    title: str
    uri: str
    terms: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    order: int = 0


def _ranked(found: Iterable[_Found], source: str, limit: int) -> list[Evidence]:
    best = sorted(found, key=lambda item: (-len(item.terms), item.order))[:limit]
    return [
        Evidence(
            source=source,
            title=item.title,
            excerpt=clip(" … ".join(dict.fromkeys(item.lines)), EXCERPT_CHARS),
            uri=item.uri,
            kind="local",
            rank=rank,
        )
        for rank, item in enumerate(best, start=1)
    ]


def _failed(exc: WorkbenchError) -> SourceProblem:
    return SourceProblem("failed", exc.message)


class FilesSource:
    """Content search over every root the caller may read."""

    name = "files"
    max_queries: int | None = None

    def __init__(self, reader: FilesReader) -> None:
        self.reader = reader

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        found: dict[str, _Found] = {}
        terms = query.core()[:TERMS_ASKED]
        try:
            for term in terms:
                pattern = r"\b" + re.escape(term) + r"\w*"
                matches = await self.reader.search(pattern, max_results=ctx.limit * 5)
                for match in matches:
                    self._add(found, match, term)
        except WorkbenchError as exc:
            raise _failed(exc) from None
        return _ranked(found.values(), self.name, ctx.limit)

    @staticmethod
    def _add(found: dict[str, _Found], match: LineMatch, term: str) -> None:
        uri = f"files://{match.root}/{match.path}"
        item = found.setdefault(uri, _Found(title=match.path, uri=uri, order=len(found)))
        item.terms.add(term)
        if len(item.lines) < 4:
            item.lines.append(match.text.strip())


class DataSource:
    """Text search over every database the caller may read (full-text indexes where a table has
    one, a bounded scan where it has not)."""

    name = "data"
    max_queries: int | None = None

    def __init__(self, reader: DataReader) -> None:
        self.reader = reader

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        found: dict[str, _Found] = {}
        terms = query.core()[:TERMS_ASKED]
        try:
            for source in self.reader.source_names():
                for term in terms:
                    with anyio.fail_after(max(0.1, ctx.deadline - anyio.current_time())):
                        result = await self.reader.search(source, term, limit=ctx.limit * 2)
                    for hit in result.hits:
                        self._add(found, source, hit, term)
        except TimeoutError:
            raise SourceProblem("timeout", "the databases did not answer in time") from None
        except WorkbenchError as exc:
            raise _failed(exc) from None
        return _ranked(found.values(), self.name, ctx.limit)

    @staticmethod
    def _add(found: dict[str, _Found], source: str, hit: dict[str, Any], term: str) -> None:
        table = hit["table"]
        row = hit["row"]
        key = f"{source}/{table}/{json.dumps(row, sort_keys=True, default=str)}"
        text = "; ".join(f"{column}: {value}" for column, value in row.items() if value not in (None, ""))
        item = found.setdefault(
            key, _Found(title=f"{table} ({source})", uri=f"data://{source}/tables/{table}", order=len(found))
        )
        item.terms.add(term)
        if not item.lines:
            item.lines.append(text)
