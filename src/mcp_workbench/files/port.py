"""What the files capability offers the capabilities installed after it (see
:class:`~mcp_workbench.capability.Services`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FileText:
    """A text file's content (the first ``max_read_bytes`` of it at most)."""

    root: str
    path: str
    text: str
    truncated: bool


@dataclass(frozen=True, slots=True)
class LineMatch:
    """One line whose text matched a content search."""

    root: str
    path: str
    line: int
    text: str


class FilesReader(Protocol):
    """Reading the roots on a caller's behalf (scope ``files:read``): the same sandbox, ignore
    rules and bounds as ``files_read``; errors are the same
    :class:`~mcp_workbench.platform.errors.WorkbenchError`\\ s."""

    def root_names(self) -> list[str]:
        """The configured roots."""
        ...

    async def read_text(self, root: str | None, path: str) -> FileText:
        """A text file; an image or other binary file is an invalid-input error."""
        ...

    async def search(
        self,
        contains: str,
        *,
        root: str | None = None,
        pattern: str | None = None,
        ignore_case: bool = True,
        max_results: int = 50,
    ) -> list[LineMatch]:
        """Lines that match the regular expression ``contains`` in the files under a root (every
        root when None), optionally only in files whose name matches the glob ``pattern``."""
        ...
