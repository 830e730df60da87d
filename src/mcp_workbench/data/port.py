"""What the data capability offers the capabilities installed after it (see
:class:`~mcp_workbench.capability.Services`). Light on purpose: importing it loads no engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # re-exported (PEP 484 ``X as X``): other capabilities name the results through this port
    from mcp_workbench.data.paging import RowPage as RowPage  # noqa: PLC0414
    from mcp_workbench.data.search import SearchResult as SearchResult  # noqa: PLC0414


class DataReader(Protocol):
    """Reading the databases on a caller's behalf (scope ``data:read``): read-only, bounded like
    ``data_read``; errors are the same :class:`~mcp_workbench.platform.errors.WorkbenchError`\\ s."""

    def source_names(self) -> list[str]:
        """The configured sources."""
        ...

    @property
    def max_rows(self) -> int:
        """The largest ``limit`` a read may ask for (``[data] max_rows``)."""
        ...

    async def sql(self, source: str, sql: str, params: Sequence[Any] = (), *, limit: int | None = None) -> RowPage:
        """One read-only statement with ``?`` placeholders bound from ``params``."""
        ...

    async def rows(self, source: str, table: str, *, limit: int | None = None) -> RowPage:
        """The first rows of a table."""
        ...

    async def search(self, source: str, text: str, *, limit: int | None = None) -> SearchResult:
        """Rows whose text columns hold ``text``."""
        ...
