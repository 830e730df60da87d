"""Tiny images (3x2 pixels) built byte by byte, for the image tests."""

from __future__ import annotations

import struct
import zlib


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png(3, 2)

GIF = (
    b"GIF89a"
    + struct.pack("<HH", 3, 2)
    + b"\x80\x00\x00"  # global colour table of 2 entries
    + b"\xff\x00\x00\x00\x00\xff"
    + b",\x00\x00\x00\x00"
    + struct.pack("<HH", 3, 2)
    + b"\x00\x02\x02\x44\x01\x00;"
)

JPEG = (
    b"\xff\xd8"  # SOI
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"  # APP0
    + b"\xff\xc0\x00\x0b\x08"
    + struct.pack(">HH", 2, 3)  # SOF0: height 2, width 3
    + b"\x01\x01\x11\x00"
    + b"\xff\xd9"  # EOI
)


def _riff(chunk: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


WEBP_LOSSY = _riff(
    b"VP8 " + struct.pack("<I", 18) + b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", 3, 2) + b"\x00" * 8
)
WEBP_LOSSLESS = _riff(b"VP8L" + struct.pack("<I", 5) + b"\x2f" + ((3 - 1) | ((2 - 1) << 14)).to_bytes(4, "little"))
