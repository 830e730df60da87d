"""Telling text from binary, finding a text file's encoding, and reading it by lines or bytes.

Detection, on the first 64 KB: a byte-order mark decides (UTF-8/16/32); else image magic
bytes make an image; else valid UTF-8 is UTF-8; else NUL bytes mean binary (unless they fall
in the pattern of BOM-less UTF-16); else many control bytes mean binary; else
charset-normalizer names a legacy encoding among those that spell ASCII as itself
(:func:`ascii_transparent`; cp1252 when it is among the equally good guesses, as browsers
do), with cp1252 / latin-1 as the fallback. Read and content search both decide by this rule.

Lines are split on the encoded newline at code-unit boundaries, so UTF-16 and UTF-32 files
are read by lines as exactly as UTF-8 ones, and every line's byte offset is known: a read
cut by the byte cap says precisely where to continue (``start_line`` or ``offset``).
"""

from __future__ import annotations

import codecs
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from mcp_workbench.files.images import ImageInfo, sniff_image
from mcp_workbench.platform.textcodecs import text_encoding
from mcp_workbench.platform.textdetect import BOMS as _BOMS
from mcp_workbench.platform.textdetect import bomless_utf16 as _bomless_utf16
from mcp_workbench.platform.textdetect import decodes as _decodes
from mcp_workbench.platform.textdetect import mostly_controls

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 64 * 1024
LINE_COUNT_LIMIT = 32 * 1024 * 1024
"""Files up to this size have their lines counted (``total_lines``) on every read."""

_BOM_PREFIXES = tuple(bom for bom, _ in _BOMS)
_UNIT_CODECS = {"utf-16-le": 2, "utf-16-be": 2, "utf-32-le": 4, "utf-32-be": 4}


@dataclass(frozen=True)
class Sniffed:
    """What a file holds: text in ``encoding`` (after ``bom``), an image, or other binary."""

    kind: Literal["text", "image", "binary"]
    encoding: str | None = None
    bom: bytes = b""
    image: ImageInfo | None = None

    @property
    def label(self) -> str:
        if self.kind != "text" or self.encoding is None:
            return self.kind
        return self.encoding + (" with BOM" if self.bom else "")


ENCODING_ADVICE = (
    "use a text encoding such as 'utf-8', 'utf-16', 'latin-1' or 'cp1252', or leave 'encoding' out "
    "(read detects it, write uses utf-8)"
)


def text_codec(name: str) -> str:
    """The canonical codec name of the text encoding ``name`` (``UTF8`` -> ``utf-8``,
    ``utf-8-sig`` stays itself, so a write can still ask for a BOM).

    Raises ``ValueError`` (a message for the caller, naming what to use instead) for unknown
    names and for codecs that are not text encodings (``rot13``, ``hex``, ``base64``, ``idna``):
    Python's codec registry holds both, and only the first can decode or encode a file.
    """
    canonical = text_encoding(name)
    if canonical is not None:
        return canonical
    try:
        codecs.lookup(name)
    except (LookupError, TypeError, ValueError):
        raise ValueError(f"unknown encoding {name!r}; {ENCODING_ADVICE}") from None
    raise ValueError(f"{name!r} is a codec but not a text encoding; {ENCODING_ADVICE}")


def normalize_encoding(name: str) -> str:
    """A text encoding's name as reported and used here (``UTF8`` -> ``utf-8``, ``latin1`` ->
    ``iso8859-1``); ``utf-16``/``utf-32`` without an endianness mean little-endian (a BOM, when
    present, decides instead). Raises ``ValueError`` as :func:`text_codec` does.
    """
    canonical = text_codec(name)
    return {"utf-16": "utf-16-le", "utf-32": "utf-32-le", "utf-8-sig": "utf-8"}.get(canonical, canonical)


def sniff(sample: bytes, *, whole: bool, encoding: str | None = None) -> Sniffed:
    """Classify a file from its first bytes; ``whole`` says the sample is the entire file."""
    for bom, name in _BOMS:
        if sample.startswith(bom) and (encoding is None or normalize_encoding(encoding) == name):
            return Sniffed("text", name, bom)
    if encoding is not None:
        return Sniffed("text", normalize_encoding(encoding))
    if (image := sniff_image(sample)) is not None:
        return Sniffed("image", image=image)
    if _decodes(sample, "utf-8", whole=whole) and b"\x00" not in sample:
        return Sniffed("text", "utf-8")
    if b"\x00" in sample:
        utf16 = _bomless_utf16(sample, whole=whole)
        return Sniffed("text", utf16) if utf16 else Sniffed("binary")
    if mostly_controls(sample):
        return Sniffed("binary")
    return Sniffed("text", _legacy_encoding(sample))


_UTF8 = Sniffed("text", "utf-8")
_ASCII_MAGICS = (b"GIF8", b"RIFF")
"""How the only image signatures made of ASCII bytes (GIF, WebP) begin."""


def sniff_file(data: bytes) -> Sniffed:
    """:func:`sniff` for a file held whole in memory: always the answer of
    ``sniff(data[:SAMPLE_BYTES], whole=len(data) < SAMPLE_BYTES)`` (what ``read`` decides),
    found without copying the sample for the common case, ASCII text without NUL bytes
    (which no BOM starts, and which only a GIF or WebP signature could make an image: those
    take the full path).

    Content search classifies files with it, so it searches exactly the files ``read`` shows
    as text, decoded as ``read`` decodes them.
    """
    if data.isascii() and not data.startswith(_ASCII_MAGICS) and data.find(b"\x00", 0, SAMPLE_BYTES) < 0:
        return _UTF8
    sample = data[:SAMPLE_BYTES]
    return sniff(sample, whole=len(sample) < SAMPLE_BYTES)


def ascii_based(data: bytes) -> bool:
    """Whether ``data``, if it is text at all, is in an encoding that spells ASCII as itself:
    no BOM and no NUL in the sample leave only UTF-8 or a legacy code page (see the module
    docstring). Then text holding an ASCII string implies bytes holding it."""
    return data.find(b"\x00", 0, SAMPLE_BYTES) < 0 and not data.startswith(_BOM_PREFIXES)


@functools.cache
def ascii_transparent(encoding: str) -> bool:
    """Whether every ASCII character of text in ``encoding`` is its own single byte, both ways
    (UTF-8, cp1252, Shift-JIS, GBK ... yes; UTF-16, UTF-7, EBCDIC no). Then text holding an
    ASCII string implies bytes holding it, which lets search pass over files by their bytes."""
    try:
        return all(
            chr(code).encode(encoding) == bytes([code]) and bytes([code]).decode(encoding) == chr(code)
            for code in range(128)
        )
    except (UnicodeError, LookupError):
        return False


def _legacy_encoding(sample: bytes) -> str:
    import charset_normalizer  # imported here: most files are UTF-8, and its import is slow

    # Only encodings that spell ASCII as itself: a NUL-free file that is not UTF-8 is read as an
    # ASCII-based code page, never as EBCDIC or UTF-7, and search may pass over files by bytes.
    results = [match for match in charset_normalizer.from_bytes(sample) if ascii_transparent(match.encoding)]
    if results:
        best = results[0]  # the library's best first
        equally_good = {m.encoding for m in results if m.chaos == best.chaos} | set(best.could_be_from_charset)
        if "cp1252" in equally_good and _decodes(sample, "cp1252", whole=True):
            return "cp1252"
        return normalize_encoding(best.encoding)
    return "cp1252" if _decodes(sample, "cp1252", whole=True) else "latin-1"


# --- lines -----------------------------------------------------------------------------------


def newline_of(encoding: str) -> tuple[bytes, int]:
    """The encoded ``\\n`` and the code-unit size lines must be aligned to."""
    return "\n".encode(encoding), _UNIT_CODECS.get(encoding, 1)


def iter_lines(handle: BinaryIO, start: int, encoding: str, max_line: int) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(byte offset, line bytes with newline, complete)`` from ``start`` on.

    A line longer than ``max_line`` bytes is yielded once, cut to its first ``max_line``
    bytes with ``complete=False``; the rest of it is skipped without being held in memory.
    """
    newline, unit = newline_of(encoding)
    handle.seek(start)
    buffer = bytearray()
    base = start
    skipping = eof = False
    while True:
        index = _find_newline(buffer, newline, unit)
        if index < 0:
            if not skipping and len(buffer) > max_line:
                yield base, bytes(buffer[:max_line]), False
                skipping = True
            if skipping:
                keep = len(buffer) - len(buffer) % unit
                del buffer[:keep]
                base += keep
            if eof:
                if buffer and not skipping:
                    yield base, bytes(buffer), True
                return
            chunk = handle.read(CHUNK_BYTES)
            eof = not chunk
            buffer += chunk
            continue
        end = index + len(newline)
        if skipping:
            skipping = False
        elif end > max_line:
            yield base, bytes(buffer[:max_line]), False
        else:
            yield base, bytes(buffer[:end]), True
        del buffer[:end]
        base += end


def _find_newline(buffer: bytearray, newline: bytes, unit: int) -> int:
    index = buffer.find(newline)
    while index >= 0 and index % unit:
        index = buffer.find(newline, index + 1)
    return index


def count_lines_in(data: bytes, start: int, newline: bytes) -> int:
    """:func:`count_lines` for a file held in memory, with a single-byte ``newline``."""
    total = data.count(newline, start)
    return total + (1 if len(data) > start and data[-1:] != newline else 0)


def read_at_most(fd: int, size: int, limit: int) -> bytes:
    """The bytes of the regular file open as ``fd`` from its current position, up to
    ``limit + 1`` (so a caller sees that it exceeds ``limit``). ``size`` is what ``fstat``
    said: one read suffices when it still holds; more follow if the file grew or shrank."""
    data = os.read(fd, size + 1)
    if len(data) == size:
        return data
    chunks = [data]
    total = len(data)
    while total <= limit:
        more = os.read(fd, limit + 1 - total)
        if not more:
            break
        chunks.append(more)
        total += len(more)
    return b"".join(chunks)


def count_lines(handle: BinaryIO, start: int, encoding: str) -> int:
    """Number of lines from ``start`` to the end (a last line without newline counts)."""
    newline, unit = newline_of(encoding)
    handle.seek(start)
    if unit == 1 and len(newline) == 1:
        total = 0
        last = b""
        while chunk := handle.read(1 << 20):
            total += chunk.count(newline)
            last = chunk[-1:]
        return total + (1 if last and last != newline else 0)
    return sum(1 for _ in iter_lines(handle, start, encoding, max_line=1))


def decode_prefix(raw: bytes, encoding: str, *, final: bool) -> tuple[str, int]:
    """Decode ``raw`` up to the last whole character; return the text and bytes consumed."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    text = decoder.decode(raw, final=final)
    pending = decoder.getstate()[0]
    return text, len(raw) - len(pending)


def align_start(handle: BinaryIO, offset: int, base: int, encoding: str) -> int:
    """Move a caller's byte offset to the next character boundary."""
    _, unit = newline_of(encoding)
    offset = max(offset, base)
    if unit > 1:
        return base + -(-(offset - base) // unit) * unit
    if encoding == "utf-8":
        handle.seek(offset)
        head = handle.read(4)
        skip = 0
        while skip < min(3, len(head)) and head[skip] & 0xC0 == 0x80:
            skip += 1
        return offset + skip
    return offset


def line_endings(text: str) -> Literal["lf", "crlf", "mixed", "none"]:
    if "\r" not in text:  # the common case, without counting (str.count is slow on long text)
        return "lf" if "\n" in text else "none"
    newlines = text.count("\n")
    if not newlines:
        return "none"
    crlf = text.count("\r\n")
    return "crlf" if crlf == newlines else "lf" if crlf == 0 else "mixed"
