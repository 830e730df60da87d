"""Finding files below a path of a root by name (``pattern``) and by content (``contains``).

:func:`run_search` is the whole search as one blocking function that streams its matches to
``emit`` and returns a summary. Name-only searches run it in a worker thread; searches with
a ``contains`` regular expression run it in a child process that is killed at the time
budget (see :mod:`mcp_workbench.files.isolation`), because a regular expression can take
exponential time and cannot be interrupted otherwise.

Caps: entries visited (``max_files``), matches (``max_results``), bytes per searched file
(larger files are skipped and counted), and time. The summary's ``stopped_by`` names the cap
that ended the search; files are visited in a fixed order (sorted, depth-first), so a capped
search can be narrowed and repeated.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_workbench.files.ignore import Rules, matcher
from mcp_workbench.files.paths import RelPath, display
from mcp_workbench.files.sandbox import O_BINARY, O_NONBLOCK, Dir, Sandbox, kind_of
from mcp_workbench.files.walk import Walk

MAX_SEARCH_DEPTH = 64
SNIPPET_CHARS = 240
BINARY_PROBE = 8192
_TEXT_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


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
    regex = compile_contains(job.contains, ignore_case=job.ignore_case) if job.contains else None
    names = matcher([job.pattern], job.start if not job.start_is_file else job.start[:-1]) if job.pattern else None
    counters = _Counters()
    if job.start_is_file:
        _search_one_file(sandbox, job, regex=regex, names=names, counters=counters, emit=emit, deadline=deadline)
        return counters.summary(0)
    walk = Walk(
        sandbox,
        job.start,
        max_depth=MAX_SEARCH_DEPTH,
        exclude=matcher(list(job.exclude), job.start) if job.exclude else None,
        gitignore=job.gitignore,
        deadline=deadline,
    )
    for item in walk:
        if counters.visited >= job.max_files:
            counters.stopped_by = "max_files"
            break
        counters.visited += 1
        if names is not None and not names.decide(item.rel, is_dir=item.is_dir):
            continue
        if regex is None:
            emit(_name_match(item.rel, item.info))
            counters.found += 1
        elif stat.S_ISREG(item.info.st_mode):
            for match in _matches_in(
                item.parent,
                item.name,
                item.info,
                rel=item.rel,
                regex=regex,
                job=job,
                counters=counters,
                deadline=deadline,
            ):
                emit(match)
                counters.found += 1
                if counters.found >= job.max_results:
                    break
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
    regex: re.Pattern[str] | None,
    names: Rules | None,
    counters: _Counters,
    emit: Callable[[dict[str, Any]], None],
    deadline: float,
) -> None:
    parent, _ = sandbox.open_dir(job.start[:-1])
    with parent:
        info = sandbox.lstat(parent, job.start[-1], display(job.start))
        if info is None or not stat.S_ISREG(info.st_mode):
            return
        counters.visited = 1
        if names is not None and not names.decide(job.start, is_dir=False):
            return
        if regex is None:
            emit(_name_match(job.start, info))
            return
        for match in _matches_in(
            parent, job.start[-1], info, rel=job.start, regex=regex, job=job, counters=counters, deadline=deadline
        ):
            emit(match)
            counters.found += 1
            if counters.found >= job.max_results:
                counters.stopped_by = "max_results"
                return


def _name_match(rel: RelPath, info: os.stat_result) -> dict[str, Any]:
    match: dict[str, Any] = {"path": display(rel), "type": kind_of(info.st_mode)}
    if stat.S_ISREG(info.st_mode):
        match["size"] = info.st_size
    return match


def _matches_in(
    parent: Dir,
    name: str,
    info: os.stat_result,
    *,
    rel: RelPath,
    regex: re.Pattern[str],
    job: SearchJob,
    counters: _Counters,
    deadline: float,
) -> Iterator[dict[str, Any]]:
    text = _load_text(parent, name, info, job.max_file_bytes, counters)
    if text is None:
        return
    counters.searched += 1
    shown = display(rel)
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
        yield {"path": shown, "line": line_no, "text": snippet(line, found.start() - line_start)}
        position = line_end + 1


def _load_text(parent: Dir, name: str, info: os.stat_result, limit: int, counters: _Counters) -> str | None:
    if info.st_size > limit:
        counters.large += 1
        return None
    try:
        fd = parent.open(name, os.O_RDONLY | O_NONBLOCK | O_BINARY)
    except OSError:
        counters.unreadable += 1
        return None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode) or not os.path.samestat(info, opened):
            counters.unreadable += 1
            return None
        data = handle.read(limit + 1)
    if len(data) > limit:
        counters.large += 1
        return None
    return _decode(data, counters)


def _decode(data: bytes, counters: _Counters) -> str | None:
    for bom, encoding in _TEXT_BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace")
    if b"\x00" in data[:BINARY_PROBE]:
        counters.binary += 1
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def snippet(line: str, column: int) -> str:
    """The matching line, cut to about 240 characters around the match."""
    line = line.rstrip("\r")
    if len(line) <= SNIPPET_CHARS:
        return line
    start = max(0, min(column - SNIPPET_CHARS // 3, len(line) - SNIPPET_CHARS))
    cut = line[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + cut + ("…" if start + SNIPPET_CHARS < len(line) else "")
