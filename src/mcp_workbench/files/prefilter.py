"""Literals a regular expression cannot match without, to skip files before decoding them.

Content search reads each file's bytes; most files hold no match. When the caller's pattern
requires a literal run of ASCII characters (``needle_[0-9]+_marker`` requires ``needle_``
and ``_marker``), a file whose bytes lack it is passed over without being decoded or
matched: one ``bytes.find`` instead of a decode and a regular-expression scan.

This is exact, not a heuristic, for files whose encoding spells every ASCII character as its
single byte and decodes no other byte sequence to one (UTF-8, the single-byte code pages,
Shift-JIS, GBK ...: :func:`mcp_workbench.files.textio.ascii_transparent`); search applies it to
those only (never to UTF-16/32). Under ``ignore_case`` the bytes are compared ASCII-case-insensitively, and the
letters ``i``, ``k`` and ``s`` never go into a literal: Python's case-insensitive matching
lets ``İ``, ``ı``, ``ſ`` and ``K`` (Kelvin) stand for them, which an ASCII comparison would
miss.

Literal runs are taken from the pattern's sequence, from groups and repeats it cannot match
without, and from alternations all of whose branches have one (then any of them will do);
anything else the parser gives yields no prefilter, and every file is matched in full as
before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

try:  # the parser behind re.compile; its shape is stable since Python 3.11 but not public
    import re._constants as _sre_constants  # type: ignore[import-not-found]  # private: typeshed has no stub
    import re._parser as _sre_parser  # type: ignore[import-not-found]  # private: typeshed has no stub
except ImportError:  # pragma: no cover - a Python without it only loses the shortcut
    _sre_parser = None
    _sre_constants = None

MIN_LITERAL = 2
"""Shorter literals filter too little to pay for the extra pass over the bytes."""

_CASE_UNSAFE = frozenset("iIkKsS")
"""ASCII letters that non-ASCII characters match under Python's ``re.IGNORECASE``."""


@dataclass(frozen=True)
class Prefilter:
    """A file can match only if its bytes contain one of ``literals`` (lower-cased when
    ``ignore_case``)."""

    literals: tuple[bytes, ...]
    ignore_case: bool

    def admits(self, data: bytes) -> bool:
        """Whether ``data`` (text in an ASCII-transparent encoding) may hold a match."""
        if self.ignore_case:
            data = data.lower()
        if len(self.literals) == 1:
            return self.literals[0] in data
        return any(literal in data for literal in self.literals)


def prefilter_for(pattern: str, *, ignore_case: bool) -> Prefilter | None:
    """The prefilter of ``pattern`` (compiled by the caller with ``re.MULTILINE``, plus
    ``re.IGNORECASE`` when ``ignore_case``), or ``None`` when it requires no usable literal."""
    if _sre_parser is None:
        return None
    try:
        parsed = _sre_parser.parse(pattern, re.MULTILINE | (re.IGNORECASE if ignore_case else 0))
        folded = ignore_case or bool(parsed.state.flags & re.IGNORECASE)
        literals = _required(list(parsed), folded)
    except Exception:  # noqa: BLE001 - a parser we do not understand only costs the shortcut
        return None
    if not literals:
        return None
    encoded = tuple(literal.encode("ascii") for literal in literals)
    return Prefilter(tuple(lit.lower() for lit in encoded) if folded else encoded, folded)


def _required(items: list[Any], folded: bool) -> tuple[str, ...] | None:
    """Literals one of which every match of the sequence ``items`` contains: its longest
    literal run, else the literals of a required group or of an alternation all of whose
    branches have one; ``None`` when there are none."""
    literal = _longest_run(items, folded)
    if literal is not None:
        return (literal,)
    for op, value in items:
        found: tuple[str, ...] | None = None
        if op is _sre_constants.BRANCH:
            branches = [_required(list(branch), folded) for branch in value[1]]
            if all(branches):
                found = tuple(dict.fromkeys(lit for branch in branches if branch for lit in branch))
        elif op is _sre_constants.SUBPATTERN:
            _, add_flags, del_flags, group = value
            if not add_flags and not del_flags:
                found = _required(list(group), folded)
        elif op is _sre_constants.MAX_REPEAT or op is _sre_constants.MIN_REPEAT:
            low, _, repeated = value
            if low >= 1:
                found = _required(list(repeated), folded)
        if found:
            return found
    return None


def _longest_run(items: list[Any], folded: bool) -> str | None:
    """The longest run of consecutive ASCII literal characters in a sequence."""
    best = ""
    run: list[str] = []
    for op, value in [*items, (None, None)]:
        char = chr(value) if op is _sre_constants.LITERAL else None
        if char is not None and char.isascii() and not (folded and char in _CASE_UNSAFE):
            run.append(char)
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
    return best if len(best) >= MIN_LITERAL else None
