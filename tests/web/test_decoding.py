"""Bodies are decoded within their cap (no decompression bombs) and with the right charset."""

from __future__ import annotations

import gzip
import zlib

import pytest

from mcp_workbench.platform.errors import UpstreamError
from mcp_workbench.web.decoding import BoundedDecoder, ContentType, decode_text, is_text, looks_like_html

MB = 1_000_000


def _feed_all(decoder: BoundedDecoder, data: bytes, chunk: int = 16_384) -> bytes:
    out = bytearray()
    for index in range(0, len(data), chunk):
        out += decoder.feed(data[index : index + chunk])
        if decoder.overflow:
            return bytes(out)
    return bytes(out + decoder.flush())


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("identity", lambda data: data),
        ("", lambda data: data),
    ],
)
def test_bodies_within_the_cap_decode_whole(coding: str, encode) -> None:
    body = b"hello world, " * 1000
    decoder = BoundedDecoder(coding, limit=len(body))
    assert _feed_all(decoder, encode(body)) == body
    assert not decoder.overflow


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_decompression_bomb_yields_no_more_than_the_cap(coding: str) -> None:
    bomb = (gzip.compress if coding == "gzip" else zlib.compress)(b"\0" * (50 * MB))
    assert len(bomb) < 100_000
    decoder = BoundedDecoder(coding, limit=MB)
    out = _feed_all(decoder, bomb, chunk=len(bomb))  # the whole bomb in one feed
    assert len(out) == MB
    assert decoder.overflow


def test_a_bomb_fed_byte_by_byte_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"a" * (5 * MB))
    decoder = BoundedDecoder("gzip", limit=10_000)
    out = bytearray()
    for index in range(len(bomb)):
        out += decoder.feed(bomb[index : index + 1])
        assert len(out) <= 10_000
        if decoder.overflow:
            break
    assert len(out) == 10_000 and decoder.overflow


def test_concatenated_gzip_members_decode_as_one_body() -> None:
    decoder = BoundedDecoder("gzip", limit=100)
    assert _feed_all(decoder, gzip.compress(b"first ") + gzip.compress(b"second")) == b"first second"


def test_exactly_the_cap_is_not_an_overflow() -> None:
    decoder = BoundedDecoder("gzip", limit=5)
    assert _feed_all(decoder, gzip.compress(b"12345")) == b"12345"
    assert not decoder.overflow


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_corrupt_compressed_data_is_an_upstream_error(coding: str) -> None:
    decoder = BoundedDecoder(coding, limit=MB)
    with pytest.raises(UpstreamError, match="not valid"):
        _feed_all(decoder, b"\x1f\x8b\x08\x00garbage that is not deflate at all" * 3)


def test_an_encoding_that_was_not_asked_for_is_refused() -> None:
    with pytest.raises(UpstreamError, match="'br'"):
        BoundedDecoder("br", limit=MB)


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        ("text/plain; charset=utf-8", "naïve café".encode(), "naïve café"),
        ("text/plain; charset=ISO-8859-1", "naïve café".encode("latin-1"), "naïve café"),
        ("text/plain; charset=windows-1252", "“quoted”".encode("cp1252"), "“quoted”"),
        ('text/html; charset="shift_jis"', "日本語".encode("shift_jis"), "日本語"),
        ("text/html", b'<meta charset="windows-1251"><p>' + "Привет".encode("cp1251"), "Привет"),
        (
            "text/html",
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">' + "Мир".encode("koi8-r"),
            "Мир",
        ),
        ("text/plain", "no charset, valid utf-8 ✓".encode(), "no charset, valid utf-8 ✓"),
        ("text/plain; charset=utf-8", b"\xef\xbb\xbfwith BOM", "with BOM"),
        ("text/plain", "utf-16 with BOM".encode("utf-16"), "utf-16 with BOM"),
        ("text/plain; charset=no-such-charset", b"plain ascii", "plain ascii"),
    ],
)
def test_text_is_decoded_with_the_charset_it_declares_or_has(header: str, body: bytes, expected: str) -> None:
    assert expected in decode_text(body, ContentType.parse(header))


def test_undeclared_legacy_text_is_guessed_not_garbled() -> None:
    body = ("Ceci est un texte français assez long pour être reconnu: déjà, où, garçon. " * 20).encode("cp1252")
    assert "français" in decode_text(body, ContentType.parse("text/plain"))


def test_a_body_cut_inside_a_multibyte_character_drops_the_broken_tail() -> None:
    body = "ab€".encode()[:-1]
    assert decode_text(body, ContentType.parse("text/plain"), truncated=True) == "ab"


@pytest.mark.parametrize(
    ("header", "body", "text"),
    [
        ("text/html", b"<p>x</p>", True),
        ("application/json", b"{}", True),
        ("application/problem+json", b"{}", True),
        ("application/rss+xml", b"<rss/>", True),
        ("application/javascript", b"var x", True),
        ("", b"plain words", True),
        ("application/octet-stream", b"plain words", True),
        ("application/octet-stream", b"\x00\x01\x02binary", False),
        ("image/png", b"\x89PNG\r\n", False),
        ("application/pdf", b"%PDF-1.7", False),
        ("video/mp4", b"....", False),
    ],
)
def test_binary_bodies_are_told_from_text(header: str, body: bytes, text: bool) -> None:
    assert is_text(ContentType.parse(header), body) is text


def test_html_is_recognised_by_type_or_by_its_first_bytes() -> None:
    assert looks_like_html(ContentType.parse("text/html; charset=utf-8"), b"")
    assert looks_like_html(ContentType.parse(""), b"  <!DOCTYPE html><html>")
    assert looks_like_html(ContentType.parse("application/octet-stream"), b"<html><body>x")
    assert not looks_like_html(ContentType.parse("text/plain"), b"a <body> tag in prose")
    assert not looks_like_html(ContentType.parse("application/json"), b"<html>")
