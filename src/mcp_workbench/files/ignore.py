"""Glob patterns with .gitignore semantics, for ``.gitignore`` files, ``exclude`` and ``pattern``.

A pattern without a ``/`` (other than a trailing one) matches a name at any depth (``*.py``,
``node_modules``); with one it is anchored to its base directory (``src/*.py``, ``/build``);
``**`` spans directories (``docs/**/*.md``); a trailing ``/`` matches directories only; ``!``
re-includes; ``\\`` escapes. Matching is case-sensitive, like git on Linux.

Each path segment is matched with :func:`fnmatch.fnmatchcase`, whose regular expressions use
atomic groups (no catastrophic backtracking), and ``**`` by a memoised walk over segments. So
a hostile ``.gitignore`` in a root cannot stall the server, which a naive glob-to-regex
translation (``a*a*a*a*b`` against a long name) would.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache

from mcp_workbench.files.paths import RelPath

MAX_PATTERN_SEGMENTS = 32
MAX_RULES_PER_FILE = 5000
GITIGNORE_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class Pattern:
    segments: tuple[str, ...]
    anchored: bool
    dir_only: bool
    negated: bool

    def matches(self, rel: RelPath, *, is_dir: bool) -> bool:
        """Whether ``rel`` (relative to the pattern's base) matches."""
        if self.dir_only and not is_dir:
            return False
        if not rel:
            return False
        if not self.anchored:
            return fnmatch.fnmatchcase(rel[-1], self.segments[0])
        return _match(self.segments, rel)


def parse(line: str) -> Pattern | None:
    """One .gitignore line as a pattern; ``None`` for blanks and comments."""
    line = line.rstrip("\n").rstrip("\r")
    line = _strip_trailing_spaces(line)
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    raw_segments = [segment for segment in line.lstrip("/").split("/") if segment]
    if not raw_segments or len(raw_segments) > MAX_PATTERN_SEGMENTS:
        return None
    segments = tuple("**" if s == "**" else _segment_glob(s) for s in raw_segments)
    if not anchored and segments == ("**",):
        return Pattern(("**",), anchored=True, dir_only=dir_only, negated=negated)
    return Pattern(segments, anchored=anchored, dir_only=dir_only, negated=negated)


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "  # "\ " keeps one escaped space
    return stripped


def _segment_glob(segment: str) -> str:
    """gitignore escapes and ``[^...]`` spelled the way fnmatch understands them."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "\\" and i + 1 < len(segment):
            following = segment[i + 1]
            out.append(f"[{following}]" if following in "*?[" else following)
            i += 2
            continue
        if ch == "[" and segment[i + 1 : i + 2] == "^":
            out.append("[!")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _match(segments: tuple[str, ...], rel: RelPath) -> bool:
    @cache
    def walk(i: int, j: int) -> bool:
        if i == len(segments):
            return j == len(rel)
        if segments[i] == "**":
            return any(walk(i + 1, k) for k in range(j, len(rel) + 1))
        return j < len(rel) and fnmatch.fnmatchcase(rel[j], segments[i]) and walk(i + 1, j + 1)

    return walk(0, 0)


class Rules:
    """The patterns of one source (a .gitignore file or an ``exclude`` list) and their base."""

    def __init__(self, base: RelPath, patterns: list[Pattern]) -> None:
        self.base = base
        self.patterns = patterns

    @classmethod
    def from_lines(cls, base: RelPath, lines: list[str]) -> Rules:
        patterns = [p for p in (parse(line) for line in lines[:MAX_RULES_PER_FILE]) if p is not None]
        return cls(base, patterns)

    def decide(self, rel: RelPath, *, is_dir: bool) -> bool | None:
        """``True`` ignored, ``False`` re-included, ``None`` when no pattern speaks (last one wins)."""
        if rel[: len(self.base)] != self.base:
            return None
        below = rel[len(self.base) :]
        for pattern in reversed(self.patterns):
            if pattern.matches(below, is_dir=is_dir):
                return not pattern.negated
        return None


class Ignorer:
    """The rules in force while walking: deeper sources take precedence over shallower ones."""

    def __init__(self, rules: list[Rules] | None = None) -> None:
        self._stack: list[Rules] = list(rules or [])

    def push(self, rules: Rules) -> None:
        self._stack.append(rules)

    def enter(self, directory: RelPath) -> None:
        """Drop the sources of directories the walk has left (those not above ``directory``)."""
        while self._stack and directory[: len(self._stack[-1].base)] != self._stack[-1].base:
            self._stack.pop()

    def ignored(self, rel: RelPath, *, is_dir: bool) -> bool:
        for rules in reversed(self._stack):
            decision = rules.decide(rel, is_dir=is_dir)
            if decision is not None:
                return decision
        return False


def matcher(patterns: list[str] | tuple[str, ...], base: RelPath = ()) -> Rules:
    """A caller's globs (``pattern`` / ``exclude``) relative to ``base``."""
    return Rules.from_lines(base, list(patterns))
