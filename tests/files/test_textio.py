"""Telling text from binary, encodings, and exact line and byte positions."""

from __future__ import annotations

import codecs
import io

import pytest

from mcp_workbench.files import textio
from mcp_workbench.files.images import sniff_image
from tests.files.images import GIF, JPEG, PNG, WEBP_LOSSLESS, WEBP_LOSSY

SAMPLES = [
    (b"plain ascii\n", "text", "utf-8", b""),
    ("naïve café ✓\n".encode(), "text", "utf-8", b""),
    (codecs.BOM_UTF8 + b"x\n", "text", "utf-8", codecs.BOM_UTF8),
    ("x\n".encode("utf-16"), "text", "utf-16-le", codecs.BOM_UTF16_LE),
    (codecs.BOM_UTF16_BE + "x\n".encode("utf-16-be"), "text", "utf-16-be", codecs.BOM_UTF16_BE),
    ("x\n".encode("utf-32"), "text", "utf-32-le", codecs.BOM_UTF32_LE),
    ("BOM-less UTF-16 text, long enough to tell\n".encode("utf-16-le"), "text", "utf-16-le", b""),
    ("Grüße aus Köln, schöne Straße, naïve café\n".encode("latin-1"), "text", "cp1252", b""),
    (bytes(range(256)) * 4, "binary", None, b""),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "binary", None, b""),
    (b"", "text", "utf-8", b""),
]


@pytest.mark.parametrize(("data", "kind", "encoding", "bom"), SAMPLES, ids=lambda v: repr(v)[:30])
def test_sniffing_finds_kind_encoding_and_bom(data: bytes, kind: str, encoding: str | None, bom: bytes) -> None:
    sniffed = textio.sniff(data, whole=True)
    assert (sniffed.kind, sniffed.encoding, sniffed.bom) == (kind, encoding, bom)


def test_a_utf8_character_cut_by_the_sample_end_is_still_utf8() -> None:
    sample = ("é" * 100).encode()[:-1]
    assert textio.sniff(sample, whole=False).encoding == "utf-8"
    assert textio.sniff(sample, whole=True).encoding != "utf-8"


def test_a_requested_encoding_wins_over_detection() -> None:
    assert textio.sniff("ü".encode("latin-1"), whole=True, encoding="latin1").encoding == "iso8859-1"
    assert textio.sniff(codecs.BOM_UTF8 + b"x", whole=True, encoding="utf-8-sig").bom == codecs.BOM_UTF8


@pytest.mark.parametrize(
    ("data", "mime", "size"),
    [
        (PNG, "image/png", (3, 2)),
        (GIF, "image/gif", (3, 2)),
        (JPEG, "image/jpeg", (3, 2)),
        (WEBP_LOSSY, "image/webp", (3, 2)),
        (WEBP_LOSSLESS, "image/webp", (3, 2)),
    ],
    ids=["png", "gif", "jpeg", "webp-lossy", "webp-lossless"],
)
def test_images_are_recognised_by_magic_bytes_with_their_size(data: bytes, mime: str, size: tuple[int, int]) -> None:
    info = sniff_image(data)
    assert info is not None and info.mime_type == mime and (info.width, info.height) == size
    assert textio.sniff(data, whole=True).kind == "image"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "cp1252"])
def test_lines_are_split_at_code_unit_boundaries_with_exact_offsets(encoding: str) -> None:
    text = "first\nsecond line\n\nlast ü without newline"
    data = text.encode(encoding)
    lines = list(textio.iter_lines(io.BytesIO(data), 0, encoding, max_line=1000))
    assert [raw.decode(encoding) for _, raw, _ in lines] == text.splitlines(keepends=True)
    for offset, raw, complete in lines:
        assert complete and data[offset : offset + len(raw)] == raw
    assert textio.count_lines(io.BytesIO(data), 0, encoding) == 4


def test_utf16_newline_bytes_inside_a_character_do_not_split_a_line() -> None:
    text = "\u0a00\u0a0a\n"  # U+0A0A encodes as 0a 0a in UTF-16-LE, not a newline
    data = text.encode("utf-16-le")
    lines = list(textio.iter_lines(io.BytesIO(data), 0, "utf-16-le", max_line=100))
    assert len(lines) == 1 and lines[0][1].decode("utf-16-le") == text


def test_an_over_long_line_is_cut_once_and_the_rest_skipped() -> None:
    data = b"short\n" + b"x" * 300_000 + b"\nafter\n"
    lines = list(textio.iter_lines(io.BytesIO(data), 0, "utf-8", max_line=1000))
    assert [(offset, len(raw), complete) for offset, raw, complete in lines] == [
        (0, 6, True),
        (6, 1000, False),
        (300_007, 6, True),
    ]


def test_decoding_a_prefix_stops_before_a_cut_character() -> None:
    data = "aé".encode()[:-1]
    assert textio.decode_prefix(data, "utf-8", final=False) == ("a", 1)
    pair = "😀".encode("utf-16-le")
    assert textio.decode_prefix(pair[:3], "utf-16-le", final=False) == ("", 0)


def test_an_offset_inside_a_character_moves_to_the_next_one() -> None:
    data = "aé€b".encode()
    assert textio.align_start(io.BytesIO(data), 2, 0, "utf-8") == 3
    assert textio.align_start(io.BytesIO(data), 4, 0, "utf-8") == 6
    assert textio.align_start(io.BytesIO(b"\xff\xfea\x00b\x00"), 3, 2, "utf-16-le") == 4


@pytest.mark.parametrize(
    ("text", "endings"),
    [("a\nb\n", "lf"), ("a\r\nb\r\n", "crlf"), ("a\r\nb\n", "mixed"), ("no newline", "none")],
)
def test_line_endings_are_classified(text: str, endings: str) -> None:
    assert textio.line_endings(text) == endings
