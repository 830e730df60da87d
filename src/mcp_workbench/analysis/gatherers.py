"""Context items gathered through the data, files and web capabilities, on the caller's behalf.

Each gatherer asks the registry for the other capability's reader as the calling key: a key
without ``data:read`` gets no SQL result through ``analyze`` any more than through
``data_read`` (the refusal reads like a missing capability, NOT_FOUND). What the reader does
is what the tool does: read-only SQL and its guards, the sandbox of the roots, the SSRF guard
and robots.txt of the fetcher, and their size caps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp_workbench.analysis.context import ContextGatherer, Gathered, describe
from mcp_workbench.analysis.models import ContextItem, FileItem, SqlItem, TableItem, UrlItem
from mcp_workbench.capability import Services
from mcp_workbench.data.port import DataReader
from mcp_workbench.files.port import FilesReader
from mcp_workbench.web.port import WebReader

if TYPE_CHECKING:
    from mcp_workbench.data.port import RowPage
    from mcp_workbench.platform.identity import Caller

PAGE_CHARS = 200_000
"""Characters of a web page gathered (the rendered context cuts further, and says so)."""


def _rows(item: ContextItem, page: RowPage, limit: int) -> Gathered:
    cut = [f"rows after the first {limit:,} (the server's max_rows)"] if page.truncated else []
    rows: list[list[Any]] = [list(row) for row in page.rows]
    return Gathered(label=describe(item), columns=list(page.columns), rows=rows, cut=cut)


class SqlGatherer:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered:
        assert isinstance(item, SqlItem)
        reader = self.services.for_caller(caller).get(DataReader)
        page = await reader.sql(item.source, item.sql, item.params, limit=reader.max_rows)
        return _rows(item, page, reader.max_rows)


class TableGatherer:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered:
        assert isinstance(item, TableItem)
        reader = self.services.for_caller(caller).get(DataReader)
        page = await reader.rows(item.source, item.table, limit=reader.max_rows)
        return _rows(item, page, reader.max_rows)


class FileGatherer:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered:
        assert isinstance(item, FileItem)
        found = await self.services.for_caller(caller).get(FilesReader).read_text(item.root, item.path)
        cut = ["the rest of the file (past the server's read cap)"] if found.truncated else []
        return Gathered(label=describe(item), text=found.text, cut=cut)


class UrlGatherer:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered:
        assert isinstance(item, UrlItem)
        page = await self.services.for_caller(caller).get(WebReader).page(item.url, max_chars=PAGE_CHARS)
        cut = [f"the page after its first {len(page.text):,} characters"] if page.truncated else []
        return Gathered(label=describe(item), text=page.text, cut=cut)


def gatherers(services: Services) -> dict[str, ContextGatherer]:
    """A gatherer for each kind whose capability this server installed."""
    found: dict[str, ContextGatherer] = {}
    if services.offered(DataReader):
        found["sql"] = SqlGatherer(services)
        found["table"] = TableGatherer(services)
    if services.offered(FilesReader):
        found["file"] = FileGatherer(services)
    if services.offered(WebReader):
        found["url"] = UrlGatherer(services)
    return found
