"""files_read operation 'search': names by glob, contents by regular expression, and caps that
say when they were hit."""

from __future__ import annotations

import pytest

from mcp_workbench.files.search import snippet
from tests.conftest import Session
from tests.files.conftest import World

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
    (world.root / "latin.txt").write_bytes("Grüße\n".encode("latin-1"))
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
