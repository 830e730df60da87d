"""Only real text encodings pass as an encoding name."""

from __future__ import annotations

import pytest

from mcp_workbench.platform.textcodecs import text_encoding


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("utf-8", "utf-8"), ("UTF8", "utf-8"), ("latin-1", "iso8859-1"), ("Shift_JIS", "shift_jis"), ("utf-16", "utf-16")],
)
def test_text_encodings_are_named_canonically(name: str, canonical: str) -> None:
    assert text_encoding(name) == canonical


@pytest.mark.parametrize(
    "name",
    [
        "rot13",
        "rot_13",
        "hex",
        "base64",
        "zlib",
        "bz2",
        "uu",
        "quopri",
        "idna",
        "punycode",
        "unicode_escape",
        "raw_unicode_escape",
        "undefined",
        "no-such-codec",
        "",
        "utf-8\x00",
    ],
)
def test_transforms_and_unknown_names_are_not_text_encodings(name: str) -> None:
    assert text_encoding(name) is None
