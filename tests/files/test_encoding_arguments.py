"""The ``encoding`` argument accepts text encodings only.

Python's codec registry also holds transforms (``rot13``, ``hex``, ``base64``, ``zlib``) and
special-purpose codecs (``idna``, ``punycode``); given as an encoding they crashed read and
write (or, for ``idna``, wrote a file nobody asked for). Each spelling below must be a
VALIDATION_ERROR naming the field and saying what to use, with nothing written.
"""

from __future__ import annotations

import pytest

from mcp_workbench.files import textio
from tests.support.files_world import World, temp_files
from tests.support.session import Session

pytestmark = pytest.mark.anyio

NOT_TEXT = [
    "rot13",
    "rot_13",
    "ROT-13",
    "hex",
    "hex_codec",
    "HEX",
    "base64",
    "base_64",
    "zlib",
    "zip",
    "bz2",
    "uu",
    "quopri",
    "idna",
    "IDNA",
    "punycode",
    "unicode_escape",
    "raw_unicode_escape",
    "undefined",
]
UNKNOWN = ["no-such-codec", "utf-9", "\u00fctf-8"]
TEXT = [
    ("UTF8", "utf-8"),
    ("latin1", "iso8859-1"),
    ("utf_16", "utf-16"),
    ("CP1252", "cp1252"),
    ("Windows-1252", "cp1252"),
]

TEXT_CONTENT = "na\u00efve caf\u00e9, Gr\u00fc\u00dfe\n"


def _assert_refused(error: dict, spelling: str) -> None:
    assert error["details"]["problems"][0]["field"] == "encoding"
    assert spelling in error["error"] and "utf-8" in error["error"]
    assert error["recovery_steps"]
    assert error["retryable"] is False


class TestNonTextEncodingsAreRefused:
    @pytest.mark.parametrize("spelling", NOT_TEXT + UNKNOWN)
    async def test_read_refuses_it_naming_the_field(self, fs: Session, world: World, spelling: str) -> None:
        (world.root / "a.txt").write_text("hello\n")
        error = await fs.error("files_read", "VALIDATION_ERROR", operation="read", path="a.txt", encoding=spelling)
        _assert_refused(error, spelling)

    @pytest.mark.parametrize("spelling", NOT_TEXT + UNKNOWN)
    async def test_write_refuses_it_and_writes_nothing(self, guarded: Session, world: World, spelling: str) -> None:
        (world.root / "keep.txt").write_text("old\n")
        for path in ("new.txt", "keep.txt"):
            error = await guarded.error(
                "files_write", "VALIDATION_ERROR", operation="write", path=path, content="abc", encoding=spelling
            )
            _assert_refused(error, spelling)
        assert not (world.root / "new.txt").exists() and (world.root / "keep.txt").read_text() == "old\n"
        assert temp_files(world.root) == []

    @pytest.mark.parametrize("spelling", ["rot13", "hex", "idna"])
    async def test_edit_takes_no_encoding_and_changes_nothing(
        self, guarded: Session, world: World, spelling: str
    ) -> None:
        (world.root / "a.txt").write_text("hello\n")
        error = await guarded.error(
            "files_write",
            "VALIDATION_ERROR",
            operation="edit",
            path="a.txt",
            edits=[{"old": "hello", "new": "bye"}],
            encoding=spelling,
        )
        assert error["details"]["problems"][0]["field"] == "encoding"
        assert (world.root / "a.txt").read_text() == "hello\n"

    @pytest.mark.parametrize(("spelling", "canonical"), TEXT)
    async def test_text_encodings_in_any_spelling_still_work(
        self, guarded: Session, world: World, spelling: str, canonical: str
    ) -> None:
        written = await guarded.ok(
            "files_write", operation="write", path="t.txt", content=TEXT_CONTENT, encoding=spelling
        )
        assert written["encoding"] == spelling
        assert (world.root / "t.txt").read_bytes() == TEXT_CONTENT.encode(canonical)
        read = await guarded.ok("files_read", operation="read", path="t.txt", encoding=spelling)
        assert read["content"] == TEXT_CONTENT
        edited = await guarded.ok(
            "files_write", operation="edit", path="t.txt", edits=[{"old": "caf\u00e9", "new": "th\u00e9"}]
        )
        edited_text = TEXT_CONTENT.replace("caf\u00e9", "th\u00e9")
        assert edited["bytes"] == len(edited_text.encode(canonical))
        assert (world.root / "t.txt").read_bytes().decode(canonical) == edited_text


class TestTheOneNormalisingRule:
    @pytest.mark.parametrize("spelling", NOT_TEXT + UNKNOWN)
    def test_normalising_and_sniffing_refuse_non_text_codecs(self, spelling: str) -> None:
        with pytest.raises(ValueError, match="utf-8"):
            textio.normalize_encoding(spelling)
        with pytest.raises(ValueError, match="utf-8"):
            textio.sniff(b"hello\n", whole=True, encoding=spelling)

    def test_utf8_sig_keeps_its_bom_for_writes_but_reads_as_utf8(self) -> None:
        assert textio.text_codec("UTF-8-SIG") == "utf-8-sig"
        assert textio.normalize_encoding("UTF-8-SIG") == "utf-8"
