"""What a server says about its body is not trusted on its own: a charset that names a codec
but not a text encoding (``rot13``, ``hex``, ``idna``, ``base64`` …) counts as undeclared, and
a body is refused as binary by its bytes, whatever its Content-Type says (UTF-16 text, whose
bytes are half NULs, still reads as text).

Every case goes through a real client to a real loopback site, in both protocol eras.
"""

from __future__ import annotations

import codecs
import json

import pytest

from tests.support.loopback_site import Reply, Site

pytestmark = pytest.mark.anyio

NOT_TEXT_ENCODINGS = [
    "rot13",
    "ROT_13",
    "rot-13",
    "hex",
    "hex_codec",
    "base64",
    "base_64",
    "idna",
    "IDNA",
    "punycode",
    "zlib",
    "bz2",
    "uu",
    "quopri",
    "unicode_escape",
    "raw_unicode_escape",
    "undefined",
    "no-such-charset",
]
WORDS = "Ærøskøbing façade, naïve café"
ARTICLE = (
    "<html><head>{meta}<title>Charsets</title></head><body><article>"
    f"<h1>Old town</h1><p>{WORDS}: the old town has cobbled streets and small painted houses "
    "along the harbour, and people come from far away to see them in summer.</p></article></body></html>"
)


def _routes(site: Site, make: callable) -> dict[str, str]:
    return {name: site.route(f"/{index}", make(name)) for index, name in enumerate(NOT_TEXT_ENCODINGS)}


class TestDeclaredCharsetsThatAreNotTextEncodings:
    """Unknown or non-text charset names fall back to detection: the page is read, never a crash."""

    async def test_in_the_content_type_header(self, connect, web_settings, site: Site) -> None:
        urls = _routes(
            site,
            lambda name: Reply(200, ARTICLE.format(meta="").encode(), {"content-type": f"text/html; charset={name}"}),
        )
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                for fmt in ("markdown", "text", "raw"):
                    outcome = await session.call("web_fetch", url=url, format=fmt)
                    assert not outcome.is_error, (name, fmt, outcome.text)
                    assert WORDS in outcome.text, (name, fmt, outcome.text)

    async def test_in_a_meta_charset(self, connect, web_settings, site: Site) -> None:
        urls = _routes(
            site,
            lambda name: Reply(
                200, ARTICLE.format(meta=f'<meta charset="{name}">').encode(), {"content-type": "text/html"}
            ),
        )
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                for fmt in ("markdown", "raw"):
                    outcome = await session.call("web_fetch", url=url, format=fmt)
                    assert not outcome.is_error, (name, fmt, outcome.text)
                    assert WORDS in outcome.text, (name, fmt, outcome.text)

    async def test_in_a_meta_http_equiv_content_type(self, connect, web_settings, site: Site) -> None:
        meta = '<meta http-equiv="Content-Type" content="text/html; charset={}">'
        urls = _routes(
            site,
            lambda name: Reply(200, ARTICLE.format(meta=meta.format(name)).encode(), {"content-type": "text/html"}),
        )
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                outcome = await session.call("web_fetch", url=url, format="raw")
                assert not outcome.is_error, (name, outcome.text)
                assert WORDS in outcome.text, (name, outcome.text)

    async def test_in_an_xml_declaration(self, connect, web_settings, site: Site) -> None:
        urls = _routes(
            site,
            lambda name: Reply(
                200,
                (f'<?xml version="1.0" encoding="{name}"?>\n' + ARTICLE.format(meta="")).encode(),
                {"content-type": "application/xhtml+xml"},
            ),
        )
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                for fmt in ("markdown", "raw"):
                    outcome = await session.call("web_fetch", url=url, format=fmt)
                    assert not outcome.is_error, (name, fmt, outcome.text)
                    assert WORDS in outcome.text, (name, fmt, outcome.text)

    async def test_in_a_header_of_a_legacy_encoded_body(self, connect, web_settings, site: Site) -> None:
        """Not UTF-8 and a useless label: detection still finds a Latin code page."""
        body = (WORDS + ". " + "The harbour is old and the houses are painted. " * 20).encode("cp1252")
        urls = _routes(site, lambda name: Reply(200, body, {"content-type": f"text/plain; charset={name}"}))
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                outcome = await session.call("web_fetch", url=url, format="raw")
                assert not outcome.is_error, (name, outcome.text)
                assert outcome.text.startswith(WORDS), (name, outcome.text[:80])

    async def test_a_byte_order_mark_wins_over_the_header(self, connect, web_settings, site: Site) -> None:
        text = ARTICLE.format(meta="")
        marked = {
            "utf-8": codecs.BOM_UTF8 + text.encode("utf-8"),
            "utf-16-le": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
            "utf-16-be": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
            "utf-32-le": codecs.BOM_UTF32_LE + text.encode("utf-32-le"),
            "utf-32-be": codecs.BOM_UTF32_BE + text.encode("utf-32-be"),
        }
        urls = {
            (encoding, label): site.route(
                f"/{encoding}/{label}", Reply(200, body, {"content-type": f"text/html; charset={label}"})
            )
            for encoding, body in marked.items()
            for label in ("rot13", "hex", "idna", "iso-8859-1")
        }
        async with connect(web_settings()) as session:
            for case, url in urls.items():
                outcome = await session.call("web_fetch", url=url, format="raw", max_length=100_000)
                assert not outcome.is_error, (case, outcome.text)
                assert outcome.text == text, (case, outcome.text[:80])


NUL_BODIES = {
    "html": (b"<html><body><p>hello</p>\x00\x00\x00\x01\x02\x03 binary tail \x00\x00</body></html>", "text/html"),
    "html-utf8": (b"<html><body>" + b"\0\0\0\0\xde\xad\xbe\xef" * 64 + b"</body></html>", "text/html; charset=utf-8"),
    "plain": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4, "text/plain"),
    "plain-utf8": (b"header\n\x00\x00\x00\x10\x00\x00\x00ELF", "text/plain; charset=utf-8"),
    "json": (b'{"a": "\x00\x00\x00\x00\x01\x02"}', "application/json"),
    "problem-json": (b'{"a": 1}\x00\x00\x00\x00', "application/problem+json"),
    "xml": (b"<?xml version='1.0'?><a>\x00\x00\x01</a>", "application/xml"),
    "css": (b"body{}\x00\x00\x00\x00\x00\x00", "text/css"),
}
CONTROL_BODY = (bytes(range(1, 8)) + b"\x0e\x0f\x10\x11\x12\x13\x14\xfe\xff") * 300  # no NULs, not UTF-8, not text


class TestBinaryBodiesAreRefusedWhateverTheirType:
    """NUL bytes (outside UTF-16's pattern) or a body of control bytes: VALIDATION_ERROR, in every format."""

    async def test_nul_bytes_under_text_types(self, connect, web_settings, site: Site) -> None:
        urls = {
            name: site.route(f"/{name}", Reply(200, body, {"content-type": ctype}))
            for name, (body, ctype) in NUL_BODIES.items()
        }
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                for fmt in ("markdown", "text", "raw", "json"):
                    error = await session.error("web_fetch", "VALIDATION_ERROR", url=url, format=fmt)
                    assert "binary" in error["error"], (name, fmt, error)
                    assert error["recovery_steps"], (name, fmt)
                    assert error["retryable"] is False

    async def test_control_bytes_under_a_text_type(self, connect, web_settings, site: Site) -> None:
        url = site.route("/controls", Reply(200, CONTROL_BODY, {"content-type": "text/plain; charset=cp1252"}))
        async with connect(web_settings()) as session:
            error = await session.error("web_fetch", "VALIDATION_ERROR", url=url, format="raw")
        assert "binary" in error["error"]


UTF16_TEXT = "Ærøskøbing façade: text in UTF-16 is half NUL bytes, and it is still text.\n" * 20


class TestUtf16IsTextDespiteItsNulBytes:
    async def test_declared_utf16_without_a_byte_order_mark(self, connect, web_settings, site: Site) -> None:
        cases = {
            "utf-16le label": (UTF16_TEXT.encode("utf-16-le"), "text/plain; charset=utf-16le"),
            "utf-16be label": (UTF16_TEXT.encode("utf-16-be"), "text/plain; charset=UTF-16BE"),
            "utf-16 label, LE bytes": (UTF16_TEXT.encode("utf-16-le"), "text/plain; charset=utf-16"),
            "utf-16 label, BE bytes": (UTF16_TEXT.encode("utf-16-be"), "text/plain; charset=utf-16"),
            "utf-32 label": (UTF16_TEXT.encode("utf-32-le"), "text/plain; charset=utf-32"),
            "no label, LE bytes": (UTF16_TEXT.encode("utf-16-le"), "text/plain"),
            "json in utf-16": (
                json.dumps({"text": UTF16_TEXT}).encode("utf-16-le"),
                "application/json; charset=utf-16",
            ),
        }
        urls = {name: site.route(f"/{index}", Reply(200, body, {"content-type": ctype}))
                for index, (name, (body, ctype)) in enumerate(cases.items())}  # fmt: skip
        async with connect(web_settings()) as session:
            for name, url in urls.items():
                outcome = await session.call("web_fetch", url=url, format="raw", max_length=100_000)
                assert not outcome.is_error, (name, outcome.text)
                expected = json.dumps({"text": UTF16_TEXT}) if name.startswith("json") else UTF16_TEXT
                assert outcome.text == expected, (name, outcome.text[:80])

    async def test_utf16_html_with_a_byte_order_mark_becomes_markdown(self, connect, web_settings, site: Site) -> None:
        html = ARTICLE.format(meta="")
        url = site.route(
            "/u16", Reply(200, codecs.BOM_UTF16_LE + html.encode("utf-16-le"), {"content-type": "text/html"})
        )
        async with connect(web_settings()) as session:
            outcome = await session.call("web_fetch", url=url)
        assert not outcome.is_error, outcome.text
        assert WORDS in outcome.text and "# Old town" in outcome.text
