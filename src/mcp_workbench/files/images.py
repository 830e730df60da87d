"""Recognising the images ``files_read`` returns as image content: PNG, JPEG, GIF and WebP,
by their magic bytes (never by file name), with their dimensions when the header has them."""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
GIF_MAGICS = (b"GIF87a", b"GIF89a")
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int | None = None
    height: int | None = None

    def describe(self) -> str:
        size = f" {self.width}x{self.height}" if self.width and self.height else ""
        return f"{self.mime_type}{size}"


def sniff_image(head: bytes) -> ImageInfo | None:
    """The image type of a file starting with ``head`` (its first bytes), or ``None``."""
    if head.startswith(PNG_MAGIC):
        if len(head) >= 24 and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return ImageInfo("image/png", width, height)
        return ImageInfo("image/png")
    if head.startswith(GIF_MAGICS):
        if len(head) >= 10:
            width, height = struct.unpack("<HH", head[6:10])
            return ImageInfo("image/gif", width, height)
        return ImageInfo("image/gif")
    if head.startswith(JPEG_MAGIC):
        return ImageInfo("image/jpeg", *_jpeg_size(head))
    if len(head) >= 16 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageInfo("image/webp", *_webp_size(head))
    return None


def _jpeg_size(head: bytes) -> tuple[int | None, int | None]:
    i = 2
    while i + 9 <= len(head):
        if head[i] != 0xFF:
            i += 1
            continue
        marker = head[i + 1]
        if marker in {0xFF, 0x01} or 0xD0 <= marker <= 0xD8:
            i += 1 if marker == 0xFF else 2
            continue
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", head[i + 5 : i + 9])
            return width, height
        i += 2 + int.from_bytes(head[i + 2 : i + 4], "big")
    return None, None


def _webp_size(head: bytes) -> tuple[int | None, int | None]:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None, None
