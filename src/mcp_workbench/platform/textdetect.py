"""Telling text bytes from binary bytes by looking at them: one rule for files and the web.

A file's bytes and a web body's bytes are judged the same way, after any byte-order mark has
decided (see :data:`BOMS`): NUL bytes mean binary unless they fall in the pattern of BOM-less
UTF-16 (every other byte NUL, and the whole decodes); otherwise valid UTF-8 is text; otherwise
many control bytes (more than one in twenty, tab, newlines, form feed, backspace and escape
aside) mean binary. A declared type or charset never overrides the bytes: a ``text/html``
body full of NULs is still binary, but a body declared UTF-16 legitimately holds NULs.
"""

from __future__ import annotations

import codecs

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
"""Byte-order marks and the encoding each announces, longest first where one prefixes another."""

_TEXT_CONTROLS = frozenset(b"\t\n\r\f\b\v\x1b")


def bom_of(sample: bytes) -> tuple[bytes, str] | None:
    """The byte-order mark ``sample`` starts with and its encoding, or None."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return bom, name
    return None


def decodes(sample: bytes, encoding: str, *, whole: bool) -> bool:
    """Whether ``sample`` is valid ``encoding`` (a cut last character is fine unless ``whole``)."""
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def bomless_utf16(sample: bytes, *, whole: bool) -> str | None:
    """``utf-16-le``/``utf-16-be`` if the NUL bytes of ``sample`` fall in UTF-16's pattern, else None."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    odd_nuls = sample[1::2].count(0)
    even_nuls = sample[0::2].count(0)
    for name, mostly, rarely in (("utf-16-le", odd_nuls, even_nuls), ("utf-16-be", even_nuls, odd_nuls)):
        if mostly >= pairs * 0.4 and rarely <= pairs * 0.05 and decodes(sample, name, whole=whole):
            return name
    return None


def mostly_controls(sample: bytes) -> bool:
    """More than one byte in twenty is a control byte that text does not use."""
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls > len(sample) // 20


def looks_binary(sample: bytes, *, whole: bool) -> bool:
    """Whether ``sample`` (a body's or file's first bytes, byte-order marks already handled) is binary."""
    if b"\x00" in sample:
        return bomless_utf16(sample, whole=whole) is None
    if decodes(sample, "utf-8", whole=whole):
        return False
    return mostly_controls(sample)
