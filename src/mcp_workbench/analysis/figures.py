"""Figures in a draft against the figures the server computed: a figure that matches nothing is flagged.

A figure matches a computed value when the value, rounded the way the figure is written, gives
the figure: "120.5" matches 120.4999, "1,200" matches 1,183 (written to the hundred), "3.1
million" matches 3,084,112, "41%" matches 41.2 % or a share of 0.412. Signs are ignored ("fell
by 12" matches a change of -12). The computed values are every number in the context as the
model was shown it (the server's profiles included) and in the task.

Not checked: whole numbers up to 12 (counts of points, list numbers, months), years
1900-2100, and numbers inside dates, times, versions or words ("Q3", "3rd", "v2").
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
}
_FIGURE = re.compile(
    r"(?<![\w.\-/:])"
    r"(?P<sign>[-−+])?[$€£]?"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?:(?P<pct>\s?%|\s(?:percent|per cent)\b)"
    r"|(?P<attached>k|K|M|mn|bn|B)\b"
    r"|\s(?P<word>thousand|million|billion)\b)?"
    r"(?![\w%]|[.:/\-]\d)"
)
_DATE_TIME = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
)
SMALL = 12
YEARS = (1900, 2100)


@dataclass(frozen=True)
class Figure:
    written: str
    value: float
    tolerance: float
    percent: bool
    plain: bool
    """Written as a bare whole number: no decimals, separators, percent or scale word."""


def _value(match: re.Match[str]) -> tuple[float, bool]:
    """A figure's value (scale applied) and whether it is a percentage."""
    whole, frac, pct, attached, word = match.group("int", "frac", "pct", "attached", "word")
    value = float(whole.replace(",", "") + (frac or ""))
    scale = attached or word
    return (value * _SCALES[scale.lower()] if scale else value), pct is not None


def _parse(match: re.Match[str]) -> Figure:
    whole = match.group("int").replace(",", "")
    frac = match.group("frac") or ""
    value = float(whole + frac)
    decimals = len(frac) - 1 if frac else 0
    if decimals:
        unit = 10.0**-decimals
    else:
        zeros = len(whole) - len(whole.rstrip("0"))
        unit = 10.0 ** min(zeros, len(whole) - 1) if value else 1.0
    scale_word = (match.group("attached") or match.group("word") or "").lower()
    scale = _SCALES.get(scale_word, 1.0)
    if scale_word:
        unit = (10.0**-decimals if decimals else 1.0) * scale
    percent = bool(match.group("pct"))
    plain = not (frac or scale_word or percent or "," in match.group("int"))
    return Figure(match.group(0).strip(), value * scale, unit / 2, percent, plain)


def figures_in(text: str) -> list[Figure]:
    """Every figure written in ``text`` (dates and times are not figures)."""
    return [_parse(m) for m in _FIGURE.finditer(_DATE_TIME.sub(" ", text))]


def checked(figure: Figure) -> bool:
    """Whether a draft's figure is one the check holds to the computed values."""
    if not figure.plain:
        return True
    value = int(figure.value)
    return not (value <= SMALL or YEARS[0] <= value <= YEARS[1])


class ComputedFigures:
    """The values a draft may cite, sorted for range lookups."""

    def __init__(self, values: Iterable[float]) -> None:
        self._values = sorted({abs(v) for v in values})

    @classmethod
    def of(cls, *texts: str) -> ComputedFigures:
        """The figures of ``texts``: kept for the last few texts, as every round of one analysis
        asks for the same context's figures again."""
        return _computed(texts)

    def __len__(self) -> int:
        return len(self._values)

    def _near(self, value: float, tolerance: float) -> bool:
        slack = tolerance + abs(value) * 1e-9
        at = bisect.bisect_left(self._values, abs(value) - slack)
        return at < len(self._values) and self._values[at] <= abs(value) + slack

    def matches(self, figure: Figure) -> bool:
        if self._near(figure.value, figure.tolerance):
            return True
        # 41% may be written for a share of 0.412, and a share of 0.41 for 41 %
        return figure.percent and self._near(figure.value / 100, figure.tolerance / 100)


def unmatched(draft: str, computed: ComputedFigures) -> tuple[list[str], int]:
    """The draft's figures that match no computed value (as written, once each), and how many were checked."""
    missing: list[str] = []
    count = 0
    for figure in figures_in(draft):
        if not checked(figure):
            continue
        count += 1
        if not computed.matches(figure) and figure.written not in missing:
            missing.append(figure.written)
    return missing, count


@lru_cache(maxsize=16)
def _computed(texts: tuple[str, ...]) -> ComputedFigures:
    values: list[float] = []
    for text in texts:
        for match in _FIGURE.finditer(_DATE_TIME.sub(" ", text)):
            value, percent = _value(match)
            values.append(value)
            if percent:
                values.append(value / 100)
    return ComputedFigures(values)
