"""The bundle's icon: a PNG drawn here, byte for byte the same on every build (no image
library, no binary file in the repository).

A workbench seen from the front on a rounded tile: a top, two legs, and three things on it —
a database, a page and a globe, for the three kinds of tools.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable

SIZE = 512
Color = tuple[int, int, int, int]
CLEAR: Color = (0, 0, 0, 0)
TILE: Color = (31, 41, 55, 255)
WOOD: Color = (217, 160, 91, 255)
DATA: Color = (96, 165, 250, 255)
PAGE: Color = (229, 231, 235, 255)
WEB: Color = (52, 211, 153, 255)


class Canvas:
    def __init__(self, size: int) -> None:
        self.size = size
        self.pixels = bytearray(bytes(CLEAR) * size * size)

    def paint(self, box: tuple[int, int, int, int], color: Color, inside: Callable[[int, int], bool]) -> None:
        """Paint the points of ``box`` (left, top, right, bottom) for which ``inside(x, y)`` holds."""
        left, top, right, bottom = box
        value = bytes(color)
        for y in range(top, bottom):
            for x in range(left, right):
                if inside(x, y):
                    at = (y * self.size + x) * 4
                    self.pixels[at : at + 4] = value

    def rounded(self, box: tuple[int, int, int, int], radius: int, color: Color) -> None:
        """A rectangle with round corners, row by row: each row is one span."""
        left, top, right, bottom = box
        value = bytes(color)
        for y in range(top, bottom):
            cy = min(max(y, top + radius), bottom - 1 - radius)
            reach = math.isqrt(radius * radius - (y - cy) ** 2)
            start, end = left + radius - reach, right - radius + reach
            at = y * self.size * 4
            self.pixels[at + start * 4 : at + end * 4] = value * (end - start)

    def png(self) -> bytes:
        stride = self.size * 4
        rows = b"".join(b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.size))
        header = struct.pack(">IIBBBBB", self.size, self.size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
        return b"".join(
            (
                b"\x89PNG\r\n\x1a\n",
                _chunk(b"IHDR", header),
                _chunk(b"IDAT", zlib.compress(rows, 9)),
                _chunk(b"IEND", b""),
            )
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png() -> bytes:
    canvas = Canvas(SIZE)
    canvas.rounded((0, 0, SIZE, SIZE), 96, TILE)
    canvas.rounded((72, 330, 440, 362), 10, WOOD)  # the bench top
    canvas.rounded((104, 362, 136, 448), 6, WOOD)  # its legs
    canvas.rounded((376, 362, 408, 448), 6, WOOD)
    canvas.rounded((96, 178, 192, 330), 24, DATA)  # a database: a cylinder in three bands
    for y in (228, 278):
        canvas.paint((96, y, 192, y + 4), TILE, lambda x, y: True)
    canvas.paint((216, 170, 296, 330), PAGE, lambda x, y: (x - 216) + (y - 170) >= 24 or x < 272)  # folded corner
    canvas.paint((216, 170, 296, 194), TILE, lambda x, y: x - 272 > y - 170)
    for y in (210, 238, 266, 294):  # lines of text
        canvas.paint((232, y, 280, y + 8), TILE, lambda x, y: True)

    def globe(x: int, y: int) -> bool:
        dx, dy = x - 368, y - 282
        return dx * dx + dy * dy <= 46 * 46

    def lines(x: int, y: int) -> bool:
        dx, dy = x - 368, y - 282
        return globe(x, y) and (abs(dy) <= 2 or abs(dx) <= 2 or abs(dx * dx * 4 + dy * dy - 46 * 46) <= 180)

    canvas.paint((322, 236, 415, 329), WEB, globe)
    canvas.paint((322, 236, 415, 329), TILE, lines)
    return canvas.png()
