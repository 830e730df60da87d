"""files_read operation 'search': names by glob, contents by regular expression, and caps that
say when they were hit."""

from __future__ import annotations

import codecs
import os

import pytest

from mcp_workbench.files.prefilter import prefilter_for
from mcp_workbench.files.search import snippet
from mcp_workbench.files.textio import SAMPLE_BYTES
from tests.support.files_world import World
from tests.support.session import Session

pytestmark = pytest.mark.anyio


@pytest.fixture
def project(world: World) -> World:
    files = {
        "src/app.py": "import os\n\ndef main():\n    return os.getcwd()\n",
        "src/util.py": "def helper():\n    return 42\n",
        "src/deep/more.py": "# TODO: more\n",
        "docs/guide.md": "Call main() first.\nTODO: write docs\n",
        "build/gen.py": "def main(): pass\n",
        "notes.txt": "todo later\n",
    }
    for name, text in files.items():
        path = world.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (world.root / ".gitignore").write_text("build/\n")
    (world.root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00TODO")
    return world


async def test_names_are_found_by_glob_at_any_depth(fs: Session, project: World) -> None:
    data = await fs.ok("files_read", operation="search", pattern="*.py")
    assert [m["path"] for m in data["matches"]] == ["src/app.py", "src/deep/more.py", "src/util.py"]
    assert data["truncated"] is False and data["stopped_by"] is None


async def test_an_anchored_glob_is_relative_to_the_searched_path(fs: Session, project: World) -> None:
    data = await fs.ok("files_read", operation="search", pattern="src/*.py")
    assert [m["path"] for m in data["matches"]] == ["src/app.py", "src/util.py"]
    below = await fs.ok("files_read", operation="search", path="src", pattern="deep/**/*.py")
    assert [m["path"] for m in below["matches"]] == ["src/deep/more.py"]


async def test_contents_are_found_by_regex_with_line_numbers(fs: Session, project: World) -> None:
    outcome = await fs.call("files_read", operation="search", contains=r"def \w+\(")
    assert [(m["path"], m["line"]) for m in outcome.data["matches"]] == [("src/app.py", 3), ("src/util.py", 1)]
    assert "src/app.py:3: def main():" in outcome.text


async def test_pattern_and_contains_combine(fs: Session, project: World) -> None:
    data = await fs.ok("files_read", operation="search", pattern="*.md", contains="TODO")
    assert [(m["path"], m["line"], m["text"]) for m in data["matches"]] == [("docs/guide.md", 2, "TODO: write docs")]


async def test_case_can_be_ignored(fs: Session, project: World) -> None:
    sensitive = await fs.ok("files_read", operation="search", contains="todo")
    insensitive = await fs.ok("files_read", operation="search", contains="todo", ignore_case=True)
    assert [m["path"] for m in sensitive["matches"]] == ["notes.txt"]
    assert {m["path"] for m in insensitive["matches"]} == {"docs/guide.md", "notes.txt", "src/deep/more.py"}


async def test_gitignored_and_binary_files_are_skipped(fs: Session, project: World) -> None:
    data = await fs.ok("files_read", operation="search", contains="main")
    assert "build/gen.py" not in {m["path"] for m in data["matches"]}
    assert data["skipped"]["binary"] == 1
    everything = await fs.ok("files_read", operation="search", contains="main", gitignore=False)
    assert "build/gen.py" in {m["path"] for m in everything["matches"]}


async def test_a_single_file_can_be_searched(fs: Session, project: World) -> None:
    data = await fs.ok("files_read", operation="search", path="src/app.py", contains="os")
    assert [m["line"] for m in data["matches"]] == [1, 4]


async def test_the_match_cap_is_reported(fs: Session, world: World) -> None:
    (world.root / "many.txt").write_text("hit\n" * 50)
    outcome = await fs.call("files_read", operation="search", contains="hit", max_results=5)
    assert len(outcome.data["matches"]) == 5 and outcome.data["stopped_by"] == "max_results"
    assert outcome.data["truncated"] is True and "match cap reached" in outcome.text


async def test_the_file_cap_is_reported(connect, files_settings, world: World) -> None:
    for n in range(30):
        (world.root / f"f{n:02}.txt").write_text("x")
    async with connect(files_settings(max_search_files=10)) as session:
        data = await session.ok("files_read", operation="search", pattern="*.txt")
        assert len(data["matches"]) == 10 and data["stopped_by"] == "max_files"


async def test_files_over_the_size_cap_are_skipped_and_counted(connect, files_settings, world: World) -> None:
    (world.root / "big.txt").write_text("needle\n" + "x" * 5000)
    (world.root / "small.txt").write_text("needle\n")
    async with connect(files_settings(max_search_file_bytes=1024)) as session:
        outcome = await session.call("files_read", operation="search", contains="needle")
        assert [m["path"] for m in outcome.data["matches"]] == ["small.txt"]
        assert outcome.data["skipped"]["too_large"] == 1 and "too large" in outcome.text


async def test_a_catastrophic_regex_is_stopped_at_the_time_budget(connect, files_settings, world: World) -> None:
    """(a+)+$ against a long run of a's backtracks for ages; the worker is killed, the server lives."""
    (world.root / "evil.txt").write_text("a" * 64 + "!\n")
    async with connect(files_settings(search_timeout_s=0.5)) as session:
        outcome = await session.call("files_read", operation="search", contains="(a+)+$")
        assert not outcome.is_error and outcome.data["stopped_by"] == "time"
        assert "time budget reached" in outcome.text
        again = await session.ok("files_read", operation="search", contains="!$")
        assert [m["path"] for m in again["matches"]] == ["evil.txt"]


async def test_matching_across_encodings(fs: Session, world: World) -> None:
    (world.root / "u16.txt").write_bytes("erste\nzweite Grüße\n".encode("utf-16"))
    (world.root / "latin.txt").write_bytes("Grüße aus Köln, naïve café\n".encode("latin-1"))  # read: cp1252
    data = await fs.ok("files_read", operation="search", contains="Grüße")
    assert sorted((m["path"], m["line"]) for m in data["matches"]) == [("latin.txt", 1), ("u16.txt", 2)]


@pytest.mark.parametrize(
    "arguments", [{}, {"contains": "("}, {"contains": "x" * 1001}, {"pattern": ""}, {"max_results": 0}], ids=str
)
async def test_bad_search_arguments_are_validation_errors(fs: Session, arguments) -> None:
    await fs.error("files_read", "VALIDATION_ERROR", operation="search", **arguments)


async def test_search_below_a_missing_path_is_not_found(fs: Session) -> None:
    await fs.error("files_read", "NOT_FOUND", operation="search", path="missing", pattern="*")


def test_long_lines_are_cut_around_the_match() -> None:
    line = "x" * 1000 + "NEEDLE" + "y" * 1000
    cut = snippet(line, 1000)
    assert "NEEDLE" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 242
    assert snippet("short\r", 0) == "short"


# --- how file contents are read: one read per file, a literal prefilter, binaries by their first block


async def test_a_match_far_into_a_file_is_found_with_its_line_number(fs: Session, world: World) -> None:
    filler = "".join(f"filler line {n}\n" for n in range(2000))  # about 30 KB: well past the first block
    (world.root / "long.txt").write_text(filler + "here is the needle_42_marker\n")
    data = await fs.ok("files_read", operation="search", contains=r"needle_[0-9]+_marker")
    assert [(m["path"], m["line"], m["text"]) for m in data["matches"]] == [
        ("long.txt", 2001, "here is the needle_42_marker")
    ]


async def test_a_nul_in_the_sample_read_judges_makes_a_file_binary(fs: Session, world: World) -> None:
    (world.root / "blob.dat").write_bytes(b"\x00\x01\x02needle\n")
    (world.root / "mid.dat").write_bytes(b"x" * 9000 + b"\x00\nneedle\n")  # read: binary
    (world.root / "late.txt").write_bytes(b"x" * SAMPLE_BYTES + b"\x00\nneedle\n")  # a NUL after read's sample
    data = await fs.ok("files_read", operation="search", contains="needle")
    assert [(m["path"], m["line"]) for m in data["matches"]] == [("late.txt", 2)]
    assert data["skipped"]["binary"] == 2 and data["files_searched"] == 1


async def test_files_without_the_literal_are_searched_and_counted_but_do_not_match(fs: Session, world: World) -> None:
    for n in range(5):
        (world.root / f"f{n}.txt").write_text("nothing to see\n")
    (world.root / "hit.txt").write_text("a\nneedle 7\n")
    data = await fs.ok("files_read", operation="search", contains=r"needle \d")
    assert [(m["path"], m["line"]) for m in data["matches"]] == [("hit.txt", 2)]
    assert data["files_searched"] == 6


async def test_ignore_case_finds_the_non_ascii_letters_python_folds_onto_ascii(fs: Session, world: World) -> None:
    """Under re.IGNORECASE, 'K' (Kelvin sign) matches 'k' and 'ſ' (long s) matches 's': a bytes
    prefilter must not rule those files out."""
    (world.root / "kelvin.txt").write_text("0 \u212aelvin\n", encoding="utf-8")
    (world.root / "long_s.txt").write_text("\u017ftop here\n", encoding="utf-8")
    (world.root / "plain.txt").write_text("KELVIN STOP\n", encoding="utf-8")
    data = await fs.ok("files_read", operation="search", contains="kelvin|stop", ignore_case=True)
    assert [(m["path"], m["line"]) for m in data["matches"]] == [
        ("kelvin.txt", 1),
        ("long_s.txt", 1),
        ("plain.txt", 1),
    ]


async def test_legacy_encoded_and_bom_files_are_matched_as_text(fs: Session, world: World) -> None:
    (world.root / "a_cp1252.txt").write_bytes("first\nna\u00efve caf\u00e9 \u20ac5, Gr\u00fc\u00dfe\n".encode("cp1252"))
    (world.root / "b_utf8_bom.txt").write_bytes(codecs.BOM_UTF8 + "caf\u00e9 one\n".encode())
    (world.root / "c_utf32.txt").write_bytes("x\ny\ncaf\u00e9 two\n".encode("utf-32"))
    data = await fs.ok("files_read", operation="search", contains="caf\u00e9 \\S+")
    assert [(m["path"], m["line"], m["text"]) for m in data["matches"]] == [
        ("a_cp1252.txt", 2, "na\u00efve caf\u00e9 \u20ac5, Gr\u00fc\u00dfe"),
        ("b_utf8_bom.txt", 1, "caf\u00e9 one"),
        ("c_utf32.txt", 3, "caf\u00e9 two"),
    ]


async def test_a_match_may_span_lines_and_is_reported_on_its_first(fs: Session, world: World) -> None:
    (world.root / "two.txt").write_text("zero\nfoo\nbar\nfoo\nbaz\n")
    data = await fs.ok("files_read", operation="search", contains=r"foo\nba[rz]")
    assert [(m["line"], m["text"]) for m in data["matches"]] == [(2, "foo"), (4, "foo")]


async def test_a_fifo_and_links_in_the_tree_are_not_read(fs: Session, world: World) -> None:
    os.mkfifo(world.root / "pipe.txt")
    (world.root / "out.txt").symlink_to(world.secret)
    (world.root / "in.txt").write_text("TOP SECRET copy\n")
    data = await fs.ok("files_read", operation="search", contains="TOP SECRET")
    assert [m["path"] for m in data["matches"]] == ["in.txt"]


@pytest.mark.parametrize(
    ("pattern", "ignore_case", "literals"),
    [
        (r"needle_[0-9]+_marker", False, (b"needle_",)),
        (r"foo|bar", False, (b"foo", b"bar")),
        (r"\bbar\b|\bfoo", False, (b"bar", b"foo")),
        (r"(needle)\d", False, (b"needle",)),
        (r"(?:abc)+", False, (b"abc",)),
        (r"Kelvin", True, (b"elv",)),  # no i, k or s under ignore_case
        (r"(?i)NEEDLE", False, (b"needle",)),
        (r"[a-z]+", False, None),
        (r"(?:abc)*x", False, None),
        (r"foo|x", False, None),
        (r"(?i:needle)", False, None),
        (r"caf\u00e9", False, (b"caf",)),
    ],
    ids=str,
)
def test_the_prefilter_takes_literals_every_match_needs(pattern: str, ignore_case: bool, literals) -> None:
    found = prefilter_for(pattern, ignore_case=ignore_case)
    assert (found.literals if found else None) == literals
