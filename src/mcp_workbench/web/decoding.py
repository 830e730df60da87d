"""Bytes off the wire → bounded bytes → text.

:class:`BoundedDecoder` undoes a ``Content-Encoding`` (gzip or deflate, the two we ask for)
without ever producing more than its limit: zlib is asked for at most ``limit + 1`` bytes at a
time, so a 10 GB gzip bomb costs no more memory than an honest page of the cap's size.
:func:`decode_text` picks the charset the way browsers do: byte-order mark, then the
``Content-Type`` charset, then an XML declaration or a ``<meta charset>`` in the first bytes
of HTML, then UTF-8, then a statistical guess. :func:`is_text` tells text from binary by the
bytes, whatever the declared type says.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass

from mcp_workbench.platform.errors import UpstreamError
from mcp_workbench.platform.textcodecs import text_encoding
from mcp_workbench.platform.textdetect import bom_of, bomless_utf16, looks_binary

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS

ACCEPT_ENCODING = "gzip, deflate"


class BoundedDecoder:
    """Undo one content coding, emitting at most ``limit`` bytes; ``overflow`` says more existed."""

    def __init__(self, coding: str, limit: int) -> None:
        coding = (coding or "identity").strip().lower()
        if coding in ("", "identity"):
            self._wbits: int | None = None
        elif coding in ("gzip", "x-gzip"):
            self._wbits = _GZIP_WBITS
        elif coding == "deflate":
            self._wbits = 0  # zlib-wrapped or raw: decided by the first two bytes
        else:
            raise UpstreamError(
                f"the server answered with content encoding {coding!r}, which was not asked for",
                recovery_steps=["Try another URL for the same content; this server's answer cannot be decoded."],
                details={"content_encoding": coding},
            )
        self._coding = coding
        self._remaining = limit
        self._decompressor: zlib._Decompress | None = None
        self._head = b""
        self.overflow = False

    def feed(self, data: bytes) -> bytes:
        if self.overflow or not data:
            return b""
        if self._wbits is None:
            return self._emit(data)
        if self._decompressor is None:
            self._head += data
            if self._wbits == 0 and len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._decompressor = zlib.decompressobj(self._start_wbits(data))
        out = bytearray()
        pending = data
        try:
            while pending and not self.overflow:
                chunk = self._decompressor.decompress(pending, self._remaining + 1)
                pending = self._decompressor.unconsumed_tail
                if self._decompressor.eof:
                    rest = self._decompressor.unused_data
                    pending = b""
                    if rest.strip(b"\0") and self._wbits == _GZIP_WBITS:
                        self._decompressor = zlib.decompressobj(_GZIP_WBITS)  # next gzip member
                        pending = rest
                out += self._emit(chunk)
        except zlib.error as exc:
            raise self._corrupt(exc) from None
        return bytes(out)

    def flush(self) -> bytes:
        if self._wbits is not None and self._decompressor is None and self._head:
            raise self._corrupt(zlib.error("truncated stream"))
        if self._decompressor is None or self.overflow:
            return b""
        try:
            return self._emit(self._decompressor.flush(self._remaining + 1))
        except zlib.error as exc:
            raise self._corrupt(exc) from None

    def _start_wbits(self, head: bytes) -> int:
        if self._wbits:
            return self._wbits
        is_zlib = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return _ZLIB_WBITS if is_zlib else _RAW_DEFLATE_WBITS

    def _emit(self, chunk: bytes) -> bytes:
        if len(chunk) > self._remaining:
            chunk = chunk[: self._remaining]
            self.overflow = True
        self._remaining -= len(chunk)
        return chunk

    def _corrupt(self, exc: zlib.error) -> UpstreamError:
        return UpstreamError(
            f"the response body is not valid {self._coding} data ({exc})",
            recovery_steps=["Retry once; if it fails again, this server sends a broken response."],
            details={"content_encoding": self._coding},
        )


@dataclass(frozen=True)
class ContentType:
    """``text/html; charset=utf-8`` → mime ``text/html``, charset ``utf-8``."""

    raw: str
    mime: str
    charset: str | None

    @classmethod
    def parse(cls, header: str | None) -> ContentType:
        raw = (header or "").strip()
        mime, _, params = raw.partition(";")
        charset = None
        match = re.search(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", params, re.IGNORECASE)
        if match:
            charset = match.group(1)
        return cls(raw=raw, mime=mime.strip().lower(), charset=charset)

    @property
    def is_html(self) -> bool:
        return self.mime in ("text/html", "application/xhtml+xml")

    @property
    def is_json(self) -> bool:
        return self.mime in ("application/json", "text/json") or self.mime.endswith("+json")


_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "application/wasm",
        "application/msword",
        "application/vnd.ms-excel",
    }
)


SNIFF_BYTES = 64 * 1024
"""How much of a body is looked at to tell text from binary (as much as for files)."""


def is_text(content_type: ContentType, body: bytes) -> bool:
    """Whether ``body`` can be shown as text.

    A declared binary type is believed; a declared text type is not, on its own: the bytes
    decide, by the rule files are judged by (:mod:`mcp_workbench.platform.textdetect`). A body
    declared UTF-16 or UTF-32 may hold NUL bytes as text.
    """
    mime = content_type.mime
    if mime.startswith(_BINARY_PREFIXES) or mime in _BINARY_TYPES:
        return False
    if mime.startswith("application/vnd.") and not (content_type.is_json or mime.endswith("+xml")):
        return False
    head = body[:SNIFF_BYTES]
    if bom_of(head) is not None:
        return True
    if _wide_unicode(_codec(content_type.charset) or ""):
        return True
    return not looks_binary(head, whole=False)


def _wide_unicode(encoding: str) -> bool:
    return encoding.startswith(("utf-16", "utf-32"))


def looks_like_html(content_type: ContentType, body: bytes) -> bool:
    if content_type.is_html:
        return True
    if content_type.mime not in ("", "application/octet-stream", "text/plain"):
        return False
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or (content_type.mime != "text/plain" and b"<body" in head)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")


def decode_text(body: bytes, content_type: ContentType, *, truncated: bool = False) -> str:
    """Decode ``body`` with the charset it declares or, failing that, the one it most likely has.

    The order is the browsers': byte-order mark, ``Content-Type`` charset, XML declaration,
    ``<meta charset>`` (HTML), then the bytes: BOM-less UTF-16, valid UTF-8, a statistical
    guess. Every name a server gives goes through
    :func:`~mcp_workbench.platform.textcodecs.text_encoding`: one that is unknown or not a text
    encoding (``rot13``, ``hex``, ``idna``) counts as not declared. A label
    read from inside the document cannot be UTF-16 or UTF-32 (it was just read as ASCII) and
    means UTF-8, as in HTML's rule. ``truncated`` bodies may end inside a multi-byte
    character; that tail is dropped.
    """
    marked = bom_of(body)
    if marked is not None:
        bom, name = marked
        return _decode(body[len(bom) :], name, truncated)
    declared = _codec(content_type.charset)
    if declared is not None and _wide_unicode(declared):
        declared = _endianness(body, declared)
    if declared is None:
        declared = _inner_label(body, content_type)
    if declared is None and b"\x00" in body[:SNIFF_BYTES]:
        declared = bomless_utf16(body[:SNIFF_BYTES], whole=False)
    if declared is not None:
        return _decode(body, declared, truncated)
    try:
        return codecs.getincrementaldecoder("utf-8")("strict").decode(body, final=not truncated)
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    guessed = _codec(best.encoding) if best is not None else None
    if guessed is None or guessed in _LATIN_SINGLE_BYTE or _wide_unicode(guessed):
        # Guessers cannot tell Latin code pages apart on short text; windows-1252 is the web's default.
        guessed = "cp1252"
    return _decode(body, guessed, truncated)


def _inner_label(body: bytes, content_type: ContentType) -> str | None:
    """The charset an XML declaration or, in HTML, a ``<meta>`` names (a text encoding), or None."""
    head = body[:4096]
    match = _XML_DECLARATION.match(head)
    if match is None and looks_like_html(content_type, body):
        match = _META_CHARSET.search(head)
    label = _codec(match.group(1).decode("ascii", "replace")) if match else None
    return "utf-8" if label is not None and _wide_unicode(label) else label


def _endianness(body: bytes, declared: str) -> str:
    """``utf-16``/``utf-32`` without a byte-order mark: the byte order the NULs show, little-endian by default."""
    if declared == "utf-16":
        return bomless_utf16(body[:SNIFF_BYTES], whole=False) or "utf-16-le"
    return "utf-32-le" if declared == "utf-32" else declared


_LATIN_SINGLE_BYTE = frozenset(
    {
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "latin-1",
        "mac-roman",
        "mac-latin2",
        "mac-iceland",
        "mac-turkish",
        *(f"iso8859-{n}" for n in (1, 2, 3, 4, 9, 10, 13, 14, 15, 16)),
    }
)


def _decode(body: bytes, encoding: str, truncated: bool) -> str:
    return codecs.getincrementaldecoder(encoding)("replace").decode(body, final=not truncated)


def _codec(name: str | None) -> str | None:
    """A charset label from a server → the text encoding to use, or None (unknown, or not text)."""
    found = text_encoding(name.strip().lower()) if name else None
    # WHATWG: latin-1 and ascii labels mean windows-1252 on the web.
    return "cp1252" if found in ("latin-1", "iso8859-1", "ascii") else found
