"""A bounded walk below a directory of a root, shared by ``tree`` and ``search``.

Depth-first, entries sorted by name, directories reported before their contents. It never
follows a symbolic link (links are reported as entries, not entered), skips what ``exclude``
or ``.gitignore`` files (and the ``.git`` directory) rule out, and stops at its deadline.
Each directory is opened relative to its parent without following links, so a directory
swapped for a link during the walk is skipped rather than entered.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from mcp_workbench.files.handles import O_BINARY, O_NONBLOCK, Dir, kind_of
from mcp_workbench.files.ignore import GITIGNORE_MAX_BYTES, Ignorer, Rules
from mcp_workbench.files.paths import RelPath
from mcp_workbench.files.sandbox import Sandbox
from mcp_workbench.platform.errors import WorkbenchError

MAX_DIR_ENTRIES = 100_000
"""Entries read from one directory at most (its listing is sorted in memory)."""


_Entry = tuple[str, os.DirEntry[str], os.stat_result | None, bool, bool]
"""A listed entry: name, directory entry, status (``None`` until asked), is a directory, is a
regular file."""

_Level = tuple[Dir, RelPath, Iterator[_Entry], int]
"""An open directory, its path, its remaining entries, and its depth."""


class WalkItem:
    """One entry met by the walk; ``parent`` stays open while the consumer handles it.

    ``is_dir`` and ``is_file`` never follow a link (a link is neither). ``info`` is the
    entry's own status (``lstat``); a walk made with ``stat_entries=False`` asks for it only
    when it is first read, which raises ``OSError`` if the entry is gone by then.
    """

    __slots__ = ("_entry", "_info", "depth", "is_dir", "is_file", "parent", "rel")

    def __init__(self, rel: RelPath, depth: int, parent: Dir, entry: _Entry) -> None:
        self.rel = rel
        self.depth = depth
        self.parent = parent
        _, self._entry, self._info, self.is_dir, self.is_file = entry

    @property
    def name(self) -> str:
        return self.rel[-1]

    @property
    def info(self) -> os.stat_result:
        if self._info is None:
            self._info = self._entry.stat(follow_symlinks=False)
        return self._info

    @property
    def kind(self) -> str:
        return kind_of(self.info.st_mode)


@dataclass
class WalkReport:
    stopped: str | None = None
    ignored: int = 0
    unreadable: int = 0
    crowded_dirs: list[str] = field(default_factory=list)


class Walk:
    """Iterate the entries below ``start`` (resolved components of a directory of ``sandbox``)."""

    def __init__(
        self,
        sandbox: Sandbox,
        start: RelPath,
        *,
        max_depth: int,
        exclude: Rules | None = None,
        gitignore: bool = True,
        deadline: float | None = None,
        stat_entries: bool = True,
        top: Dir | None = None,
    ) -> None:
        """``stat_entries=False`` takes each entry's type from the directory listing and
        leaves its status to be asked for (see :class:`WalkItem`): one system call less per
        entry for walkers that need only names and types. ``top``, the directory ``start``
        already opened by the caller, is walked (and closed) instead of opening it again."""
        self.sandbox = sandbox
        self.start = start
        self.max_depth = max_depth
        self.exclude = exclude
        self.gitignore = gitignore
        self.deadline = deadline
        self.stat_entries = stat_entries
        self.top = top
        self.report = WalkReport()
        self._ignorer = Ignorer()

    def __iter__(self) -> Iterator[WalkItem]:
        top = self.top if self.top is not None else self.sandbox.open_dir(self.start)[0]
        if self.gitignore:
            self._load_ancestor_rules()
            self._load_rules(top, self.start)
        stack: list[_Level] = [(top, self.start, self._entries(top, self.start), 0)]
        deadline, monotonic = self.deadline, time.monotonic
        try:
            while stack:
                directory, rel, entries, depth = stack[-1]
                self._ignorer.enter(rel)
                for following in entries:  # resumes where it left off after a subdirectory
                    if deadline is not None and monotonic() > deadline:
                        self.report.stopped = "time"
                        return
                    item = WalkItem((*rel, following[0]), depth + 1, directory, following)
                    if self._skipped(item):
                        self.report.ignored += 1
                        continue
                    yield item
                    if item.is_dir and item.depth < self.max_depth:
                        self._descend(stack, item)
                        break
                else:
                    stack.pop()
                    directory.close()
        finally:
            for directory, *_ in stack:
                directory.close()

    def _descend(self, stack: list[_Level], item: WalkItem) -> None:
        try:
            child = item.parent.child(item.name)
        except OSError:
            self.report.unreadable += 1
            return
        if self.gitignore:
            self._load_rules(child, item.rel)
        stack.append((child, item.rel, self._entries(child, item.rel), item.depth))

    def _skipped(self, item: WalkItem) -> bool:
        if self.gitignore and item.is_dir and item.name == ".git":
            return True
        if self.exclude is not None and self.exclude.decide(item.rel, is_dir=item.is_dir):
            return True
        return self.gitignore and self._ignorer.ignored(item.rel, is_dir=item.is_dir)

    def _entries(self, directory: Dir, rel: RelPath) -> Iterator[_Entry]:
        found: list[_Entry] = []
        try:
            with directory.scandir() as listing:
                for entry in listing:
                    if len(found) >= MAX_DIR_ENTRIES:
                        self.report.crowded_dirs.append("/".join(rel) or ".")
                        break
                    try:
                        found.append(self._listed(entry))
                    except OSError:
                        continue  # removed while listing
        except OSError:
            self.report.unreadable += 1
        found.sort(key=lambda listed: listed[0])
        return iter(found)

    def _listed(self, entry: os.DirEntry[str]) -> _Entry:
        if self.stat_entries:
            info = entry.stat(follow_symlinks=False)
            return entry.name, entry, info, stat.S_ISDIR(info.st_mode), stat.S_ISREG(info.st_mode)
        return entry.name, entry, None, entry.is_dir(follow_symlinks=False), entry.is_file(follow_symlinks=False)

    def _load_ancestor_rules(self) -> None:
        for i in range(len(self.start)):
            try:
                directory, _ = self.sandbox.open_dir(self.start[:i])
            except (WorkbenchError, OSError):
                continue  # best effort: an unreadable ancestor contributes no rules
            with directory:
                self._load_rules(directory, self.start[:i])

    def _load_rules(self, directory: Dir, rel: RelPath) -> None:
        lines = read_small_text(directory, ".gitignore", GITIGNORE_MAX_BYTES)
        if lines is not None:
            self._ignorer.enter(rel)
            self._ignorer.push(Rules.from_lines(rel, lines))


def read_small_text(directory: Dir, name: str, limit: int) -> list[str] | None:
    """The lines of a small regular file in ``directory`` (never through a link), or ``None``."""
    try:
        info = directory.lstat(name)
        if not stat.S_ISREG(info.st_mode):
            return None
        fd = directory.open(name, os.O_RDONLY | O_NONBLOCK | O_BINARY)
    except OSError:
        return None
    try:
        if not os.path.samestat(info, os.fstat(fd)):  # before fdopen, which refuses a directory
            return None
        data = os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data.decode("utf-8", "replace").splitlines()
