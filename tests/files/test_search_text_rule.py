"""Content search and ``read`` share one rule for what is text and how it is decoded.

Search used to have its own (a NUL in the first 8 KB means binary; UTF-8, else cp1252): a
UTF-16 file without a byte-order mark was text to ``read`` but skipped by search, and a
Shift-JIS file was searched as cp1252 mojibake. Now search classifies with
``textio.sniff_file``, whose fast path must give the answers of ``textio.sniff`` exactly.
"""

from __future__ import annotations

import codecs

import pytest

from mcp_workbench.files import textio
from tests.support.files_world import World
from tests.support.session import Session

JAPANESE = "東京の天気は晴れです。\n検索語: 見つける\n"
GERMAN = "Grüße aus Köln\nSuchwort: finden, naïve\n"
SAMPLES: dict[str, bytes] = {
    "utf16le_no_bom.txt": ("first line\n" + GERMAN + "needle here\n").encode("utf-16-le"),
    "utf16be_no_bom.txt": ("first line\n" + GERMAN + "needle here\n").encode("utf-16-be"),
    "shift_jis.txt": (JAPANESE * 3 + "needle here\n").encode("shift_jis"),
    "euc_jp.txt": (JAPANESE * 3 + "needle here\n").encode("euc_jp"),
    "cp1252.txt": ("caf\u00e9 \u20ac5 " + GERMAN + "needle here\n").encode("cp1252"),
    "utf8.txt": (JAPANESE + GERMAN + "needle here\n").encode(),
    "utf8_bom.txt": codecs.BOM_UTF8 + ("x\n" + "needle here\n").encode(),
    "ascii.txt": b"plain\nneedle here\n",
}
NOT_TEXT: dict[str, bytes] = {
    "real.gif": b"GIF89a\x01\x00\x01\x00needle here",
    "gif_lookalike.txt": b"GIF89a starts it, so read shows an image\nneedle here\n",
    "nul_late.bin": b"needle here\n" + b"a" * 10_000 + b"\x00\x01\x02" * 50,
    "controls.bin": bytes(range(1, 32)) * 40 + b"\xff needle here",
}


def _sniff_as_read(data: bytes) -> textio.Sniffed:
    sample = data[: textio.SAMPLE_BYTES]
    return textio.sniff(sample, whole=len(sample) < textio.SAMPLE_BYTES)


class TestOneRuleForWhatIsText:
    @pytest.mark.parametrize("name", [*SAMPLES, *NOT_TEXT])
    def test_the_search_fast_path_answers_as_read_does(self, name: str) -> None:
        data = SAMPLES.get(name) or NOT_TEXT[name]
        assert textio.sniff_file(data) == _sniff_as_read(data)

    @pytest.mark.parametrize(
        "data",
        [
            b"a" * textio.SAMPLE_BYTES,  # exactly one sample: not known to be whole
            b"a" * (textio.SAMPLE_BYTES + 10) + b"\x00",  # NUL only after the sample
            b"a" * (textio.SAMPLE_BYTES - 1) + "é".encode(),  # a character cut by the sample's end
            b"a" * textio.SAMPLE_BYTES + b"\xe9\xff",  # invalid UTF-8 only after the sample
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
            b"RIFF is not WebP",
            b"",
            b"\x00",
        ],
        ids=lambda d: repr(d[-12:]),
    )
    def test_edges_of_the_sample_are_judged_alike(self, data: bytes) -> None:
        assert textio.sniff_file(data) == _sniff_as_read(data)

    @pytest.mark.parametrize(
        ("encoding", "transparent"),
        [
            ("utf-8", True),
            ("cp1252", True),
            ("shift_jis", True),
            ("gb18030", True),
            ("utf-16-le", False),
            ("utf-32-be", False),
            ("utf-7", False),
            ("cp037", False),
            ("hz", False),
        ],
    )
    def test_files_are_passed_over_by_their_bytes_only_where_ascii_is_itself(
        self, encoding: str, transparent: bool
    ) -> None:
        assert textio.ascii_transparent(encoding) is transparent


class TestSearchFindsWhatReadShows:
    @pytest.fixture
    def corpus(self, world: World) -> World:
        for name, data in {**SAMPLES, **NOT_TEXT}.items():
            (world.root / name).write_bytes(data)
        return world

    @pytest.mark.anyio
    @pytest.mark.parametrize("contains", ["needle here", "need[l]e\\s+here", "NEEDLE HERE"])
    async def test_every_text_file_is_found_on_the_line_read_shows(
        self, fs: Session, corpus: World, contains: str
    ) -> None:
        data = await fs.ok("files_read", operation="search", contains=contains, ignore_case=contains.isupper())
        found = {m["path"]: (m["line"], m["text"]) for m in data["matches"]}
        assert sorted(found) == sorted(SAMPLES)
        assert data["skipped"]["binary"] == len(NOT_TEXT)
        for name in SAMPLES:
            read = await fs.ok("files_read", operation="read", path=name)
            lines = read["content"].split("\n")
            line, text = found[name]
            assert lines[line - 1] == text == "needle here", name

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        ("name", "word"),
        [
            ("shift_jis.txt", "見つける"),
            ("euc_jp.txt", "見つける"),
            ("utf16le_no_bom.txt", "Köln"),
            ("cp1252.txt", "€5"),
        ],
    )
    async def test_non_ascii_text_is_decoded_as_read_decodes_it(
        self, fs: Session, corpus: World, name: str, word: str
    ) -> None:
        data = await fs.ok("files_read", operation="search", path=name, contains=word)
        read = await fs.ok("files_read", operation="read", path=name)
        lines = read["content"].split("\n")
        assert data["matches"], f"{word!r} not found in {name} ({read['encoding']})"
        for match in data["matches"]:
            assert word in match["text"] and lines[match["line"] - 1] == match["text"]
