"""Exact-text edits: each ``old`` must occur exactly once (or ``replace_all``), all or nothing.

Edits apply in order, each to the result of the previous one. A file whose lines all end in
CRLF is edited in an LF view (what ``read`` shows) and written back with CRLF; in a file with
mixed endings, ``old`` must match byte for byte (``\\r`` included).

Refusals are CONFLICT: the request is well-formed but does not fit the file as it is now
(``old`` missing: the caller's view is stale; ``old`` ambiguous: it occurs more than once).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mcp_workbench.files.textio import line_endings
from mcp_workbench.platform.errors import Conflict, InvalidInput

MAX_REPORTED_LINES = 10
MAX_COUNTED = 1000


class EditLike(Protocol):
    old: str
    new: str
    replace_all: bool


@dataclass
class EditOutcome:
    text: str
    applied: list[dict[str, Any]]
    line_endings: str


def apply_edits(text: str, edits: Sequence[EditLike], *, shown: str) -> EditOutcome:
    """Apply ``edits`` to ``text`` or raise without having changed anything."""
    endings = line_endings(text)
    crlf = endings == "crlf"
    work = text.replace("\r\n", "\n") if crlf else text
    applied = []
    for index, edit in enumerate(edits):
        old = edit.old.replace("\r\n", "\n") if crlf else edit.old
        new = edit.new.replace("\r\n", "\n") if crlf else edit.new
        if old == new:
            raise InvalidInput(
                f"edits[{index}]: 'old' and 'new' are the same text",
                recovery_steps=["Drop this edit, or change 'new' to the replacement you want."],
                details={"field": f"edits.{index}", "reason": "no_change"},
            )
        positions = occurrences(work, old)
        if not positions:
            raise _missing(index, shown, endings, work, old)
        if len(positions) > 1 and not edit.replace_all:
            raise _ambiguous(index, shown, work, positions)
        first_line = work.count("\n", 0, positions[0]) + 1
        if edit.replace_all:
            work = work.replace(old, new)
        else:
            work = work[: positions[0]] + new + work[positions[0] + len(old) :]
        applied.append({"edit": index, "replacements": len(positions) if edit.replace_all else 1, "line": first_line})
    return EditOutcome(work.replace("\n", "\r\n") if crlf else work, applied, endings)


def occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of ``needle`` in ``text``, overlapping ones included (at most 1000)."""
    found: list[int] = []
    start = text.find(needle)
    while start >= 0 and len(found) < MAX_COUNTED:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _missing(index: int, shown: str, endings: str, work: str, old: str) -> Conflict:
    steps = [
        (
            f"Read '{shown}' again (files_read operation 'read') and copy the exact current text into "
            f"edits[{index}].old, including indentation and whitespace."
        ),
    ]
    hint = None
    if endings == "mixed" and "\n" in old:
        hint = "the file mixes LF and CRLF line endings; 'old' must include '\\r' where the file has it"
    elif old.strip() and old.strip() in work:
        hint = "the text occurs with different leading or trailing whitespace"
    if hint:
        steps.append(f"Note: {hint}.")
    return Conflict(
        f"edits[{index}].old was not found in '{shown}'" + (f" ({hint})" if hint else ""),
        recovery_steps=steps,
        details={"edit": index, "reason": "not_found", "path": shown},
    )


def _ambiguous(index: int, shown: str, work: str, positions: list[int]) -> Conflict:
    lines = [work.count("\n", 0, position) + 1 for position in positions[:MAX_REPORTED_LINES]]
    count = f"{len(positions)}+" if len(positions) >= MAX_COUNTED else str(len(positions))
    return Conflict(
        f"edits[{index}].old occurs {count} times in '{shown}' (lines {', '.join(map(str, lines))}); "
        "it must occur exactly once",
        recovery_steps=[
            f"Add surrounding lines to edits[{index}].old so that it matches only the place you mean.",
            f"Or set edits[{index}].replace_all to true to replace every occurrence.",
        ],
        details={"edit": index, "reason": "ambiguous", "occurrences": len(positions), "lines": lines, "path": shown},
    )


def unified_diff(before: str, after: str, shown: str, *, max_chars: int) -> tuple[str, bool]:
    """A unified diff (LF view), cut at ``max_chars``; returns it and whether it was cut."""
    before_lines = before.replace("\r\n", "\n").splitlines(keepends=True)
    after_lines = after.replace("\r\n", "\n").splitlines(keepends=True)
    prefix = _common_prefix(before_lines, after_lines)
    suffix = _common_prefix(before_lines[prefix:][::-1], after_lines[prefix:][::-1])
    keep_from = max(0, prefix - 3)
    old_mid = before_lines[keep_from : len(before_lines) - max(0, suffix - 3)]
    new_mid = after_lines[keep_from : len(after_lines) - max(0, suffix - 3)]
    lines = list(difflib.unified_diff(old_mid, new_mid, f"a/{shown}", f"b/{shown}", n=3))
    lines = [_shift_hunk(line, keep_from) for line in lines]
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    if len(text) > max_chars:
        return text[:max_chars] + "\n[diff cut]\n", True
    return text, False


def _common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        n += 1
    return n


def _shift_hunk(line: str, offset: int) -> str:
    """Renumber an ``@@ -a,b +c,d @@`` header for a diff of a slice starting at ``offset``."""
    if not offset or not line.startswith("@@ "):
        return line
    _, old, new, *rest = line.split(" ")
    return " ".join(["@@", _shift(old, offset), _shift(new, offset), *rest])


def _shift(spec: str, offset: int) -> str:
    sign, numbers = spec[0], spec[1:]
    start, _, length = numbers.partition(",")
    return f"{sign}{int(start) + offset}" + (f",{length}" if length else "")
