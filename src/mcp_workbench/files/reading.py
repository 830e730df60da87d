"""The read operations as plain blocking functions: list, tree, read, info.

They know nothing of MCP; the service runs them in worker threads and shapes their results.
Every path arrives resolved (a :class:`~mcp_workbench.files.sandbox.Target`) and every file is
opened through the sandbox, so nothing outside the root is ever opened.
"""

from __future__ import annotations

import io
import mimetypes
import os
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from mcp_workbench.files import textio
from mcp_workbench.files.handles import kind_of
from mcp_workbench.files.ignore import matcher
from mcp_workbench.files.images import ImageInfo
from mcp_workbench.files.oserrors import not_found
from mcp_workbench.files.paths import RelPath, display, printable
from mcp_workbench.files.sandbox import Sandbox, Target
from mcp_workbench.files.walk import MAX_DIR_ENTRIES, Walk
from mcp_workbench.platform.errors import InvalidInput

INFO_COUNT_LIMIT = 10_000
WHOLE_FILE_BYTES = 2 * 1024 * 1024
"""Files up to this size are read whole, with one system call, and cut into lines in memory."""


def iso_time(timestamp: float) -> str | None:
    """An OS timestamp as ISO 8601 UTC; ``None`` for one the calendar cannot hold."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def describe_entry(sandbox: Sandbox, parent: Any, name: str, info: os.stat_result, rel: RelPath) -> dict[str, Any]:
    """The facts listed for one entry (``list`` / ``tree``)."""
    kind = kind_of(info.st_mode)
    entry: dict[str, Any] = {"name": printable(name), "path": display(rel), "type": kind}
    if kind == "file":
        entry["size"] = info.st_size
    entry["modified"] = iso_time(info.st_mtime)
    if kind == "symlink":
        entry["target"] = sandbox.link_destination(parent, name)
    return entry


# --- list --------------------------------------------------------------------------------------


def list_directory(sandbox: Sandbox, target: Target, *, pattern: str | None, limit: int) -> dict[str, Any]:
    """The directory's entries, directories first, then by name; the first ``limit`` described."""
    directory, _ = sandbox.open_dir(target.real, shown=target.shown)
    rules = matcher([pattern], target.real) if pattern else None
    found: list[tuple[bool, str, os.stat_result]] = []
    total = 0
    with directory, directory.scandir() as listing:
        for item in listing:
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue  # removed while listing
            is_dir = stat.S_ISDIR(info.st_mode)
            if rules is not None and not rules.decide((*target.real, item.name), is_dir=is_dir):
                continue
            total += 1
            if len(found) < MAX_DIR_ENTRIES:
                found.append((not is_dir, item.name, info))
        found.sort(key=lambda entry: entry[:2])
        entries = [
            describe_entry(sandbox, directory, name, info, (*target.real, name)) for _, name, info in found[:limit]
        ]
    return {
        "root": sandbox.name,
        "path": target.shown,
        "entries": entries,
        "total": total,
        "truncated": total > len(entries),
    }


# --- tree --------------------------------------------------------------------------------------


def tree(
    sandbox: Sandbox,
    target: Target,
    *,
    depth: int,
    exclude: list[str],
    gitignore: bool,
    limit: int,
    budget_s: float,
) -> dict[str, Any]:
    walk = Walk(
        sandbox,
        target.real,
        max_depth=depth,
        exclude=matcher(exclude, target.real) if exclude else None,
        gitignore=gitignore,
        deadline=time.monotonic() + budget_s,
    )
    entries: list[dict[str, Any]] = []
    stopped = None
    for item in walk:
        if len(entries) >= limit:
            stopped = "max_entries"
            break
        entry = describe_entry(sandbox, item.parent, item.name, item.info, item.rel)
        entry["depth"] = item.depth
        entries.append(entry)
    return {
        "root": sandbox.name,
        "path": target.shown,
        "depth": depth,
        "entries": entries,
        "truncated": bool(stopped or walk.report.stopped or walk.report.crowded_dirs),
        "stopped_by": stopped or walk.report.stopped,
        "ignored": walk.report.ignored,
        "unreadable": walk.report.unreadable,
    }


# --- read --------------------------------------------------------------------------------------


@dataclass
class ReadResult:
    """What ``read`` found: text (with where to continue), an image, or a binary description."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    image: bytes | None = None
    image_info: ImageInfo | None = None


@dataclass(frozen=True)
class ReadRequest:
    start_line: int | None = None
    end_line: int | None = None
    head: int | None = None
    tail: int | None = None
    offset: int | None = None
    encoding: str | None = None


def read_file(
    sandbox: Sandbox,
    target: Target,
    request: ReadRequest,
    *,
    cap: int,
    image_cap: int,
    whole_file_bytes: int = WHOLE_FILE_BYTES,
) -> ReadResult:
    fd, info = sandbox.open_file(target)
    with os.fdopen(fd, "rb") as handle:
        return read_opened(
            sandbox, target, handle, info, request, cap=cap, image_cap=image_cap, whole_file_bytes=whole_file_bytes
        )


def read_opened(
    sandbox: Sandbox,
    target: Target,
    handle: BinaryIO,
    info: os.stat_result,
    request: ReadRequest,
    *,
    cap: int,
    image_cap: int,
    whole_file_bytes: int = WHOLE_FILE_BYTES,
) -> ReadResult:
    """:func:`read_file` on a file :meth:`Sandbox.open_file` opened (``handle`` wraps it).

    A file of at most ``whole_file_bytes`` is read with one system call and handled in
    memory; a larger one (or one that grew past that meanwhile) is streamed."""
    whole: bytes | None = None
    if info.st_size <= whole_file_bytes:
        whole = textio.read_at_most(handle.fileno(), info.st_size, whole_file_bytes)
        if len(whole) > whole_file_bytes:
            whole = None
            handle.seek(0)
    source: BinaryIO = io.BytesIO(whole) if whole is not None else handle
    sample = whole[: textio.SAMPLE_BYTES] if whole is not None else handle.read(textio.SAMPLE_BYTES)
    try:
        sniffed = textio.sniff(sample, whole=len(sample) < textio.SAMPLE_BYTES, encoding=request.encoding)
    except ValueError as exc:
        raise InvalidInput(
            str(exc),
            recovery_steps=["Call again without 'encoding' to have it detected, or with encoding 'utf-8'."],
            details={"field": "encoding"},
        ) from None
    base = {"root": sandbox.name, "path": target.shown, "size": info.st_size, "modified": iso_time(info.st_mtime)}
    if sniffed.kind == "image" and sniffed.image is not None:
        source.seek(len(sample))
        return _read_image(source, sample, size=info.st_size, image=sniffed.image, base=base, cap=image_cap)
    if sniffed.kind == "binary":
        return ReadResult("binary", {**base, "kind": "binary", "mime_type": guess_mime(target.shown)})
    return _read_text(source, sniffed, request, size=info.st_size, base=base, cap=cap, whole=whole)


def guess_mime(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _read_image(
    handle: BinaryIO, sample: bytes, *, size: int, image: ImageInfo, base: dict[str, Any], cap: int
) -> ReadResult:
    data = {**base, "kind": "image", "mime_type": image.mime_type, "width": image.width, "height": image.height}
    if size > cap:
        return ReadResult("image", {**data, "returned": False, "reason": f"larger than the {cap}-byte image cap"})
    content = sample + handle.read(cap + 1 - len(sample))
    if len(content) > cap:
        return ReadResult("image", {**data, "returned": False, "reason": f"larger than the {cap}-byte image cap"})
    return ReadResult("image", {**data, "returned": True}, image=content, image_info=image)


def _read_text(
    handle: BinaryIO,
    sniffed: textio.Sniffed,
    request: ReadRequest,
    *,
    size: int,
    base: dict[str, Any],
    cap: int,
    whole: bytes | None = None,
) -> ReadResult:
    """Text by lines or from an offset; ``whole`` is the entire file when it was read whole."""
    encoding = sniffed.encoding or "utf-8"
    start = len(sniffed.bom)
    newline, unit = textio.newline_of(encoding)
    in_memory = whole is not None and unit == 1 and len(newline) == 1
    if in_memory:
        assert whole is not None
        total: int | None = textio.count_lines_in(whole, start, newline)
    else:
        total = textio.count_lines(handle, start, encoding) if size <= textio.LINE_COUNT_LIMIT else None
    data = {**base, "kind": "text", "encoding": sniffed.label, "total_lines": total}
    if request.offset is not None:
        return _read_from_offset(handle, encoding, size=size, start=start, offset=request.offset, cap=cap, data=data)
    first, last = request.start_line or 1, request.end_line
    if request.head is not None:
        last = request.head
    if request.tail is not None:
        if total is None:
            return _read_tail_window(handle, encoding, size=size, start=start, count=request.tail, cap=cap, data=data)
        first, last = max(1, total - request.tail + 1), total
    if total is not None and first > max(total, 1):
        raise InvalidInput(
            f"start_line {first} is past the end of '{base['path']}', which has {total} line(s)",
            recovery_steps=[f"Use a start_line between 1 and {max(total, 1)}, or 'tail' to read the end."],
            details={"field": "start_line", "total_lines": total},
        )
    if in_memory and total is not None:
        assert whole is not None
        lines = _Lines(whole, start, newline, encoding, total)
        return lines.read(first=first, last=last, cap=cap, data=data)
    return _read_lines(handle, encoding, start=start, first=first, last=last, cap=cap, data=data)


@dataclass(frozen=True)
class _Lines:
    """A whole file in memory, in an encoding whose newline is one byte (UTF-8, cp1252, ...):
    line ranges are found with ``bytes.find``/``count`` instead of a loop over every line.
    Answers exactly as :func:`_read_lines` does on the same bytes."""

    data: bytes
    start: int
    newline: bytes
    encoding: str
    total: int

    def read(self, *, first: int, last: int | None, cap: int, data: dict[str, Any]) -> ReadResult:
        if last is not None and last < first:
            return _text_result("", data, first, first - 1, next_line=None, next_offset=None)
        content, newline = self.data, self.newline
        begin = self.line_start(first)
        window_end = min(len(content), begin + cap)
        if last is not None and last < self.total:  # line `last` ends with a newline: is it inside the cap?
            end = begin
            for _ in range(last - first + 1):
                found = content.find(newline, end, window_end)
                if found < 0:
                    break
                end = found + 1
            else:
                return _text_result(self.decode(begin, end), data, first, last, next_line=None, next_offset=None)
        if window_end == len(content):  # the rest of the file fits under the cap
            text = self.decode(begin, window_end)
            return _text_result(text, data, first, self.total, next_line=None, next_offset=None)
        cut = content.rfind(newline, begin, window_end)
        if cut < 0:  # line `first` alone is longer than the cap: continue by byte offset
            text, consumed = textio.decode_prefix(content[begin:window_end], self.encoding, final=False)
            return _text_result(text, data, first, first, next_line=None, next_offset=begin + consumed)
        returned_last = first + content.count(newline, begin, cut + 1) - 1
        return _text_result(
            self.decode(begin, cut + 1), data, first, returned_last, next_line=returned_last + 1, next_offset=None
        )

    def line_start(self, line: int) -> int:
        """The byte offset where ``line`` (1 to ``total``) begins, counting newlines from the
        nearer end of the file."""
        content, newline = self.data, self.newline
        if line <= 1:
            return self.start
        if line - 1 <= self.total - line:
            position = self.start
            for _ in range(line - 1):
                position = content.index(newline, position) + 1
            return position
        unterminated = 1 if len(content) > self.start and content[-1:] != newline else 0
        position = len(content)
        for _ in range(self.total - line + 1 - unterminated + 1):  # back past the newline that ends line - 1
            position = content.rindex(newline, self.start, position)
        return position + 1

    def decode(self, begin: int, end: int) -> str:
        return self.data[begin:end].decode(self.encoding, "replace")


def _read_lines(
    handle: BinaryIO, encoding: str, *, start: int, first: int, last: int | None, cap: int, data: dict[str, Any]
) -> ReadResult:
    chunks: list[bytes] = []
    used = 0
    line_no = 0
    returned_last = first - 1
    next_line = None
    for offset, raw, complete in textio.iter_lines(handle, start, encoding, max_line=cap):
        line_no += 1
        if line_no < first:
            continue
        if last is not None and line_no > last:
            break
        if not complete and not chunks:
            text, consumed = textio.decode_prefix(raw, encoding, final=False)
            return _text_result(text, data, first, first, next_line=None, next_offset=offset + consumed)
        if not complete or used + len(raw) > cap:
            next_line = line_no
            break
        chunks.append(raw)
        used += len(raw)
        returned_last = line_no
    if not chunks and first > 1 and line_no < first:  # past the end of a file too big to count first
        raise InvalidInput(
            f"start_line {first} is past the end of '{data['path']}', which has {line_no} line(s)",
            recovery_steps=[f"Use a start_line between 1 and {max(line_no, 1)}, or 'tail' to read the end."],
            details={"field": "start_line", "total_lines": line_no},
        )
    text = b"".join(chunks).decode(encoding, "replace")
    return _text_result(text, data, first, returned_last, next_line=next_line, next_offset=None)


def _read_from_offset(
    handle: BinaryIO, encoding: str, *, size: int, start: int, offset: int, cap: int, data: dict[str, Any]
) -> ReadResult:
    if offset > size:
        raise InvalidInput(
            f"offset {offset} is past the end of '{data['path']}' ({size} bytes)",
            details={"field": "offset", "size": size},
        )
    begin = textio.align_start(handle, offset, start, encoding)
    handle.seek(begin)
    raw = handle.read(cap)
    text, consumed = textio.decode_prefix(raw, encoding, final=begin + len(raw) >= size)
    end = begin + consumed
    result = _text_result(text, data, None, None, next_line=None, next_offset=end if end < size else None)
    result.data["offset"] = begin
    return result


def _read_tail_window(
    handle: BinaryIO, encoding: str, *, size: int, start: int, count: int, cap: int, data: dict[str, Any]
) -> ReadResult:
    """``tail`` on a file too big to count lines: the last lines found in the final ``cap`` bytes."""
    _, unit = textio.newline_of(encoding)
    begin = max(start, size - cap)
    begin = start + (begin - start + unit - 1) // unit * unit
    lines = [raw for _, raw, _ in textio.iter_lines(handle, begin, encoding, max_line=cap)]
    if begin > start and len(lines) > 1:
        lines = lines[1:]  # the first one is probably cut
    text = b"".join(lines[-count:]).decode(encoding, "replace")
    result = _text_result(text, data, None, None, next_line=None, next_offset=None)
    result.data["tail"] = min(count, len(lines))
    return result


def _text_result(
    text: str,
    data: dict[str, Any],
    first: int | None,
    last: int | None,
    *,
    next_line: int | None,
    next_offset: int | None,
) -> ReadResult:
    endings = textio.line_endings(text)
    if endings == "crlf":
        text = text.replace("\r\n", "\n")
    truncated = next_line is not None or next_offset is not None
    shown_last = last if last is not None and first is not None and last >= first else None
    return ReadResult(
        "text",
        {
            **data,
            "start_line": first if shown_last is not None else None,
            "end_line": shown_last,
            "line_endings": endings,
            "truncated": truncated,
            "next_start_line": next_line,
            "next_offset": next_offset,
            "content": text,
        },
        text=text,
    )


# --- info --------------------------------------------------------------------------------------


def info(sandbox: Sandbox, target: Target) -> dict[str, Any]:
    """Facts about the entry itself (a link is described, not followed)."""
    if target.is_root:
        directory = sandbox.open_root()
        with directory:
            facts = _facts(os.stat(sandbox.path), target, sandbox)
            facts["entries"] = _count_entries(directory)
        return facts
    parent, _ = sandbox.open_parent(target)
    with parent:
        found = sandbox.lstat(parent, target.name, target.shown)
        if found is None:
            raise not_found(target.shown, sandbox.name)
        facts = _facts(found, target, sandbox)
        if facts["type"] == "symlink":
            destination = sandbox.link_destination(parent, target.name)
            facts["target"] = destination
            facts["target_inside_root"] = destination is not None
        elif facts["type"] == "directory":
            try:
                with parent.child(target.name) as directory:
                    facts["entries"] = _count_entries(directory)
            except OSError:
                facts["entries"] = None
        elif facts["type"] == "file":
            fd, _ = sandbox.open_checked(parent, target.name, found, target.shown)
            facts.update(_content_facts(fd, target))
    return facts


def _facts(found: os.stat_result, target: Target, sandbox: Sandbox) -> dict[str, Any]:
    kind = kind_of(found.st_mode)
    facts: dict[str, Any] = {
        "root": sandbox.name,
        "path": target.shown,
        "type": kind,
        "size": found.st_size,
        "modified": iso_time(found.st_mtime),
        "accessed": iso_time(found.st_atime),
        "changed": iso_time(found.st_ctime),
        "permissions": stat.filemode(found.st_mode),
        "mode": f"{stat.S_IMODE(found.st_mode):04o}",
        "read_only_root": sandbox.read_only,
    }
    if (birth := getattr(found, "st_birthtime", None)) is not None:
        facts["created"] = iso_time(birth)
    if target.real != target.parts and kind != "symlink":
        facts["resolved_path"] = display(target.real)
    return facts


def _count_entries(directory: Any) -> int | str:
    count = 0
    with directory.scandir() as listing:
        for _ in listing:
            count += 1
            if count >= INFO_COUNT_LIMIT:
                return f"{INFO_COUNT_LIMIT}+"
    return count


def _content_facts(fd: int, target: Target) -> dict[str, Any]:
    with os.fdopen(fd, "rb") as handle:
        sample = handle.read(textio.SAMPLE_BYTES)
    sniffed = textio.sniff(sample, whole=len(sample) < textio.SAMPLE_BYTES)
    facts: dict[str, Any] = {"content": sniffed.kind, "mime_type": guess_mime(target.shown)}
    if sniffed.kind == "text":
        facts["encoding"] = sniffed.label
    if sniffed.image is not None:
        facts.update(mime_type=sniffed.image.mime_type, width=sniffed.image.width, height=sniffed.image.height)
    return facts
