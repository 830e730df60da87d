"""Finding files below a path of a root by name (``pattern``) and by content (``contains``).

:func:`run_search` is the whole search as one blocking function that streams its matches to
``emit`` and returns a summary. Name-only searches run it in a worker thread; searches with
a ``contains`` regular expression run it in a child process that is killed at the time
budget (see :mod:`mcp_workbench.platform.isolation`), because a regular expression can take
exponential time and cannot be interrupted otherwise.

Content is read cheaply: the walk takes entry types from the directory listing; each regular
file is opened relative to its directory (never through a link), checked with ``fstat`` and
read whole with one call. Whether it is text, and in which encoding, is decided by the rule
``read`` uses (:func:`mcp_workbench.files.textio.sniff_file`, with a fast path for ASCII), so
search finds what ``read`` shows (BOM-less UTF-16, Shift-JIS, ...). When the pattern requires
a literal (:mod:`mcp_workbench.files.prefilter`) and the file's encoding spells ASCII as itself
(:func:`~mcp_workbench.files.textio.ascii_based`: no BOM, no NUL), a file whose bytes lack it
is passed over undecoded, and counted as searched even if the rule would call it binary. Only
the rest is decoded and matched with the caller's regular expression, so results are those of
matching every file. (Telling a legacy encoding costs charset-normalizer's time per file, as in
``read``: in trees of non-UTF-8 files a pattern without a literal is slower.)

Caps: entries visited (``max_files``), matches (``max_results``), bytes per searched file
(larger files are skipped and counted), and time. The summary's ``stopped_by`` names the cap
that ended the search; files are visited in a fixed order (sorted, depth-first), so a capped
search can be narrowed and repeated.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_workbench.files.handles import O_BINARY, O_NONBLOCK, Dir, kind_of
from mcp_workbench.files.ignore import Rules, matcher
from mcp_workbench.files.paths import RelPath, display
from mcp_workbench.files.prefilter import prefilter_for
from mcp_workbench.files.sandbox import Sandbox
from mcp_workbench.files.textio import ascii_based, read_at_most, sniff_file
from mcp_workbench.files.walk import Walk

MAX_SEARCH_DEPTH = 64
SNIPPET_CHARS = 240
_READ_FLAGS = os.O_RDONLY | O_NONBLOCK | O_BINARY


@dataclass(frozen=True)
class SearchJob:
    """Everything a search needs, picklable (it crosses into the child process)."""

    root_name: str
    root_path: str
    use_dir_fd: bool
    start: RelPath
    start_is_file: bool
    pattern: str | None
    contains: str | None
    ignore_case: bool
    exclude: tuple[str, ...]
    gitignore: bool
    max_results: int
    max_files: int
    max_file_bytes: int
    budget_s: float


@dataclass
class _Counters:
    visited: int = 0
    searched: int = 0
    large: int = 0
    binary: int = 0
    unreadable: int = 0
    found: int = 0
    stopped_by: str | None = None

    def summary(self, ignored: int) -> dict[str, Any]:
        return {
            "files_visited": self.visited,
            "files_searched": self.searched,
            "skipped": {"too_large": self.large, "binary": self.binary, "unreadable": self.unreadable},
            "ignored": ignored,
            "stopped_by": self.stopped_by,
        }


def run_search(job: SearchJob, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Walk and match; every match goes to ``emit``; returns the summary."""
    deadline = time.monotonic() + job.budget_s
    sandbox = Sandbox(job.root_name, Path(job.root_path), read_only=True, use_dir_fd=job.use_dir_fd)
    counters = _Counters()
    scanner = _Scanner(job, counters, deadline) if job.contains else None
    names = matcher([job.pattern], job.start if not job.start_is_file else job.start[:-1]) if job.pattern else None
    if job.start_is_file:
        _search_one_file(sandbox, job, scanner=scanner, names=names, counters=counters, emit=emit)
        return counters.summary(0)
    walk = Walk(
        sandbox,
        job.start,
        max_depth=MAX_SEARCH_DEPTH,
        exclude=matcher(list(job.exclude), job.start) if job.exclude else None,
        gitignore=job.gitignore,
        deadline=deadline,
        stat_entries=False,  # a content search learns a file's size from fstat after opening it
    )
    for item in walk:
        if counters.visited >= job.max_files:
            counters.stopped_by = "max_files"
            break
        counters.visited += 1
        if names is not None and not names.decide(item.rel, is_dir=item.is_dir):
            continue
        if scanner is None:
            try:
                info = item.info
            except OSError:
                continue  # removed since the directory was listed
            emit(_name_match(item.rel, info))
            counters.found += 1
        elif item.is_file:
            scanner.scan(item.parent, item.name, item.rel, emit)
        if counters.found >= job.max_results:
            counters.stopped_by = "max_results"
            break
        if counters.stopped_by:
            break
    counters.stopped_by = counters.stopped_by or walk.report.stopped
    if walk.report.crowded_dirs and not counters.stopped_by:
        counters.stopped_by = "directory_size"
    return counters.summary(walk.report.ignored)


def compile_contains(contains: str, *, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(contains, re.MULTILINE | (re.IGNORECASE if ignore_case else 0))


def _search_one_file(
    sandbox: Sandbox,
    job: SearchJob,
    *,
    scanner: _Scanner | None,
    names: Rules | None,
    counters: _Counters,
    emit: Callable[[dict[str, Any]], None],
) -> None:
    parent, _ = sandbox.open_dir(job.start[:-1])
    with parent:
        info = sandbox.lstat(parent, job.start[-1], display(job.start))
        if info is None or not stat.S_ISREG(info.st_mode):
            return
        counters.visited = 1
        if names is not None and not names.decide(job.start, is_dir=False):
            return
        if scanner is None:
            emit(_name_match(job.start, info))
            return
        scanner.scan(parent, job.start[-1], job.start, emit)
        if counters.found >= job.max_results:
            counters.stopped_by = "max_results"


def _name_match(rel: RelPath, info: os.stat_result) -> dict[str, Any]:
    match: dict[str, Any] = {"path": display(rel), "type": kind_of(info.st_mode)}
    if stat.S_ISREG(info.st_mode):
        match["size"] = info.st_size
    return match


class _Scanner:
    """Content matching of one search: reads a file's bytes once, skips binaries and (with a
    :class:`~mcp_workbench.files.prefilter.Prefilter`) files that cannot match, and decodes
    and matches only the rest."""

    def __init__(self, job: SearchJob, counters: _Counters, deadline: float) -> None:
        assert job.contains is not None
        self.regex = compile_contains(job.contains, ignore_case=job.ignore_case)
        prefilter = prefilter_for(job.contains, ignore_case=job.ignore_case)
        self.admits = prefilter.admits if prefilter is not None else None
        self.limit = job.max_file_bytes
        self.max_results = job.max_results
        self.counters = counters
        self.deadline = deadline

    def scan(self, parent: Dir, name: str, rel: RelPath, emit: Callable[[dict[str, Any]], None]) -> None:
        """Emit the matches in ``name`` (a regular file of ``parent``) until the match cap.

        The file is opened without following a link (``O_NOFOLLOW``) or blocking on a FIFO
        swapped in (``O_NONBLOCK``) and read only if ``fstat`` shows a regular file of at most
        ``max_file_bytes``; others are counted as unreadable or too large."""
        counters, limit = self.counters, self.limit
        try:
            fd = parent.open(name, _READ_FLAGS)
        except OSError:
            self._count_unopened(parent, name)
            return
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                counters.unreadable += 1
                return
            if opened.st_size > limit:
                counters.large += 1
                return
            data = read_at_most(fd, opened.st_size, limit)
        except OSError:
            counters.unreadable += 1
            return
        finally:
            os.close(fd)
        if len(data) > limit:
            counters.large += 1
            return
        if self.admits is not None and not self.admits(data) and ascii_based(data):
            counters.searched += 1  # passed over by its bytes, before the cost of telling its encoding
            return
        sniffed = sniff_file(data)
        if sniffed.kind != "text" or sniffed.encoding is None:
            counters.binary += 1
            return
        counters.searched += 1
        text = data[len(sniffed.bom) :].decode(sniffed.encoding, "replace")
        for match in _matches_in(text, rel, self.regex, counters, self.deadline):
            emit(match)
            counters.found += 1
            if counters.found >= self.max_results:
                return

    def _count_unopened(self, parent: Dir, name: str) -> None:
        try:
            info = parent.lstat(name)
        except OSError:
            info = None
        if info is not None and stat.S_ISREG(info.st_mode) and info.st_size > self.limit:
            self.counters.large += 1  # too large is what it would have been skipped for anyway
        else:
            self.counters.unreadable += 1


def _matches_in(
    text: str, rel: RelPath, regex: re.Pattern[str], counters: _Counters, deadline: float
) -> Iterator[dict[str, Any]]:
    """The first match on each line that has one, in order (a match may span lines; the
    next search starts on the line after the one it started on)."""
    shown: str | None = None
    position = counted_to = 0
    line_no = 1
    while position <= len(text):
        if time.monotonic() > deadline:
            counters.stopped_by = "time"
            return
        found = regex.search(text, position)
        if found is None:
            return
        line_start = text.rfind("\n", 0, found.start()) + 1
        line_end = text.find("\n", found.start())
        line_end = len(text) if line_end < 0 else line_end
        line_no += text.count("\n", counted_to, line_start)
        counted_to = line_start
        line = text[line_start:line_end]
        if shown is None:
            shown = display(rel)
        yield {"path": shown, "line": line_no, "text": snippet(line, found.start() - line_start)}
        position = line_end + 1


def snippet(line: str, column: int) -> str:
    """The matching line, cut to about 240 characters around the match."""
    line = line.rstrip("\r")
    if len(line) <= SNIPPET_CHARS:
        return line
    start = max(0, min(column - SNIPPET_CHARS // 3, len(line) - SNIPPET_CHARS))
    cut = line[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + cut + ("…" if start + SNIPPET_CHARS < len(line) else "")
