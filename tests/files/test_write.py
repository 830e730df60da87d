"""files_write through a real client: atomic writes, exact edits, mkdir, move, delete."""

from __future__ import annotations

import codecs
import os
import resource
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_workbench.files.paths import display
from mcp_workbench.files.sandbox import Sandbox
from mcp_workbench.files.writing import copy_across_devices
from tests.support.files_world import World, temp_files
from tests.support.session import Session

pytestmark = pytest.mark.anyio


# --- write ----------------------------------------------------------------------------------------


async def test_write_creates_a_file_and_reports_it(guarded: Session, world: World) -> None:
    data = await guarded.ok("files_write", operation="write", path="a.txt", content="hello\n")
    assert (world.root / "a.txt").read_text() == "hello\n"
    assert data["created"] is True and data["bytes"] == 6
    assert temp_files(world.root) == []


async def test_write_replaces_atomically_keeping_the_mode(guarded: Session, world: World) -> None:
    target = world.root / "script.sh"
    target.write_text("old\n")
    target.chmod(0o751)
    inode = target.stat().st_ino
    data = await guarded.ok("files_write", operation="write", path="script.sh", content="new\n")
    assert data["created"] is False and target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o751
    assert target.stat().st_ino != inode, "a new file was renamed into place, not the old one rewritten"
    assert temp_files(world.root) == []


async def test_a_hard_link_to_the_old_file_keeps_the_old_content(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("old\n")
    os.link(world.root / "a.txt", world.root / "twin.txt")
    await guarded.ok("files_write", operation="write", path="a.txt", content="new\n")
    assert (world.root / "twin.txt").read_text() == "old\n"


async def test_create_only_refuses_an_existing_file(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("keep\n")
    error = await guarded.error(
        "files_write", "CONFLICT", operation="write", path="a.txt", content="x", create_only=True
    )
    assert error["details"]["reason"] == "exists"
    assert (world.root / "a.txt").read_text() == "keep\n" and temp_files(world.root) == []
    steps = " ".join(error["recovery_steps"])
    assert "create_only: false" in steps and "overwrite" not in steps  # the argument write has
    await guarded.ok("files_write", operation="write", path="b.txt", content="x", create_only=True)


async def test_a_move_onto_an_existing_file_suggests_the_argument_move_has(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("a\n")
    (world.root / "b.txt").write_text("b\n")
    error = await guarded.error("files_write", "CONFLICT", operation="move", path="a.txt", destination="b.txt")
    steps = " ".join(error["recovery_steps"])
    assert "overwrite: true" in steps and "create_only" not in steps
    assert (world.root / "b.txt").read_text() == "b\n"


async def test_parents_are_created_only_when_asked(guarded: Session, world: World) -> None:
    error = await guarded.error("files_write", "NOT_FOUND", operation="write", path="a/b/c.txt", content="x")
    assert "parents: true" in " ".join(error["recovery_steps"])
    assert not (world.root / "a").exists()
    data = await guarded.ok("files_write", operation="write", path="a/b/c.txt", content="x", parents=True)
    assert data["created_directories"] == ["a", "a/b"] and (world.root / "a/b/c.txt").read_text() == "x"


async def test_write_with_an_encoding(guarded: Session, world: World) -> None:
    await guarded.ok("files_write", operation="write", path="w.txt", content="Grüße\n", encoding="utf-16")
    assert (world.root / "w.txt").read_bytes() == "Grüße\n".encode("utf-16")
    await guarded.ok("files_write", operation="write", path="l.txt", content="café", encoding="latin-1")
    assert (world.root / "l.txt").read_bytes() == b"caf\xe9"
    error = await guarded.error(
        "files_write", "VALIDATION_ERROR", operation="write", path="x.txt", content="日本", encoding="latin-1"
    )
    assert "latin-1" in error["error"] and not (world.root / "x.txt").exists()


async def test_content_over_the_cap_is_too_large_and_writes_nothing(connect, files_settings, world: World) -> None:
    async with connect(files_settings(max_write_bytes=1024)) as session:
        await session.error("files_write", "TOO_LARGE", operation="write", path="big.txt", content="x" * 2000)
    assert not (world.root / "big.txt").exists() and temp_files(world.root) == []


async def test_writing_onto_a_directory_is_a_conflict(guarded: Session, world: World) -> None:
    (world.root / "d").mkdir()
    await guarded.error("files_write", "CONFLICT", operation="write", path="d", content="x")
    assert (world.root / "d").is_dir()


def _output_file_size() -> int:
    """The largest regular file this process has open: pytest's own output may be one of them,
    under a descriptor that its output capture has moved."""
    fds = [int(fd) for fd in os.listdir("/proc/self/fd")] if os.path.isdir("/proc/self/fd") else range(256)
    sizes = [0]
    for fd in fds:
        try:
            status = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISREG(status.st_mode):
            sizes.append(status.st_size)
    return max(sizes)


@pytest.fixture
def small_file_limit() -> Iterator[int]:
    """A real OS failure mid-write: files this process writes may not grow past a small size.

    The limit binds every file of this process, pytest's own output too when it goes to a file
    (a CI log), so it is set above what any open file already holds."""
    limit = max(4096, _output_file_size() + 64 * 1024)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


async def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary_file(
    guarded: Session, world: World, small_file_limit: int
) -> None:
    (world.root / "a.txt").write_text("old\n")
    await guarded.error(
        "files_write", "TOO_LARGE", operation="write", path="a.txt", content="x" * (small_file_limit * 3)
    )
    assert (world.root / "a.txt").read_text() == "old\n"
    assert temp_files(world.root) == []


async def test_an_edit_that_fails_midway_changes_nothing(guarded: Session, world: World, small_file_limit: int) -> None:
    (world.root / "a.txt").write_text("small\n")
    edits = [{"old": "small", "new": "y" * (small_file_limit * 2)}]
    await guarded.error("files_write", "TOO_LARGE", operation="edit", path="a.txt", edits=edits)
    assert (world.root / "a.txt").read_text() == "small\n" and temp_files(world.root) == []


async def test_dry_run_writes_nothing(guarded: Session, world: World) -> None:
    data = await guarded.ok("files_write", operation="write", path="a/b.txt", content="x", parents=True, dry_run=True)
    assert data["dry_run"] is True and data["created"] is True
    assert list(world.root.iterdir()) == []


@pytest.mark.parametrize("name", ["CON", "nul.txt", "ab:c.txt", "trailing.", "what?.txt", "tab\there"])
async def test_new_names_must_be_portable(guarded: Session, world: World, name: str) -> None:
    await guarded.error("files_write", "VALIDATION_ERROR", operation="write", path=name, content="x")
    assert list(world.root.iterdir()) == []


# --- edit -----------------------------------------------------------------------------------------


async def test_edit_replaces_exact_text_and_returns_the_diff(guarded: Session, world: World) -> None:
    (world.root / "a.py").write_text("def f():\n    return 1\n\ndef g():\n    return 2\n")
    data = await guarded.ok(
        "files_write", operation="edit", path="a.py", edits=[{"old": "    return 2\n", "new": "    return 3\n"}]
    )
    assert (world.root / "a.py").read_text() == "def f():\n    return 1\n\ndef g():\n    return 3\n"
    assert "-    return 2\n+    return 3\n" in data["diff"] and data["applied"] == [
        {"edit": 0, "replacements": 1, "line": 5}
    ]
    assert "@@ -2,4 +2,4 @@" in data["diff"]


async def test_dry_run_edit_shows_the_diff_and_changes_nothing(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("alpha\nbeta\n")
    before = (world.root / "a.txt").stat().st_mtime_ns
    data = await guarded.ok(
        "files_write", operation="edit", path="a.txt", edits=[{"old": "beta", "new": "gamma"}], dry_run=True
    )
    assert "-beta\n+gamma\n" in data["diff"]
    assert (world.root / "a.txt").read_text() == "alpha\nbeta\n" and (world.root / "a.txt").stat().st_mtime_ns == before


async def test_an_ambiguous_old_text_is_a_conflict_naming_the_lines(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("x = 1\ny = 2\nx = 1\n")
    error = await guarded.error(
        "files_write", "CONFLICT", operation="edit", path="a.txt", edits=[{"old": "x = 1", "new": "x = 9"}]
    )
    assert error["details"] == {"edit": 0, "reason": "ambiguous", "occurrences": 2, "lines": [1, 3], "path": "a.txt"}
    assert any("replace_all" in step for step in error["recovery_steps"])
    assert (world.root / "a.txt").read_text() == "x = 1\ny = 2\nx = 1\n"
    await guarded.ok(
        "files_write", operation="edit", path="a.txt", edits=[{"old": "x = 1", "new": "x = 9", "replace_all": True}]
    )
    assert (world.root / "a.txt").read_text() == "x = 9\ny = 2\nx = 9\n"


async def test_overlapping_occurrences_count_as_ambiguous(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("aaa")
    error = await guarded.error(
        "files_write", "CONFLICT", operation="edit", path="a.txt", edits=[{"old": "aa", "new": "b"}]
    )
    assert error["details"]["occurrences"] == 2


async def test_edits_are_all_or_nothing(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("one\ntwo\n")
    error = await guarded.error(
        "files_write",
        "CONFLICT",
        operation="edit",
        path="a.txt",
        edits=[{"old": "one", "new": "ONE"}, {"old": "three", "new": "THREE"}],
    )
    assert error["details"]["edit"] == 1 and error["details"]["reason"] == "not_found"
    assert (world.root / "a.txt").read_text() == "one\ntwo\n" and temp_files(world.root) == []


async def test_edits_apply_in_order_each_to_the_previous_result(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("a\n")
    await guarded.ok(
        "files_write", operation="edit", path="a.txt", edits=[{"old": "a", "new": "b"}, {"old": "b", "new": "c"}]
    )
    assert (world.root / "a.txt").read_text() == "c\n"


async def test_missing_text_with_other_whitespace_gets_a_hint(guarded: Session, world: World) -> None:
    (world.root / "a.py").write_text("if x:\n    go()\n")
    error = await guarded.error(
        "files_write", "CONFLICT", operation="edit", path="a.py", edits=[{"old": "\tgo()", "new": "\tstop()"}]
    )
    assert "whitespace" in error["error"]


async def test_a_crlf_file_is_edited_in_its_lf_view_and_stays_crlf(guarded: Session, world: World) -> None:
    (world.root / "dos.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    await guarded.ok(
        "files_write", operation="edit", path="dos.txt", edits=[{"old": "one\ntwo\n", "new": "one\n2\nand more\n"}]
    )
    assert (world.root / "dos.txt").read_bytes() == b"one\r\n2\r\nand more\r\nthree\r\n"


async def test_edit_keeps_the_encoding_and_the_bom(guarded: Session, world: World) -> None:
    (world.root / "u16.txt").write_bytes("Grüße\nWelt\n".encode("utf-16"))
    (world.root / "bom.txt").write_bytes(codecs.BOM_UTF8 + "naïve\n".encode())
    (world.root / "latin.txt").write_bytes("café crème\n".encode("latin-1"))
    await guarded.ok("files_write", operation="edit", path="u16.txt", edits=[{"old": "Welt", "new": "Wörld"}])
    await guarded.ok("files_write", operation="edit", path="bom.txt", edits=[{"old": "naïve", "new": "näive"}])
    await guarded.ok("files_write", operation="edit", path="latin.txt", edits=[{"old": "crème", "new": "brûlée"}])
    assert (world.root / "u16.txt").read_bytes() == "Grüße\nWörld\n".encode("utf-16")
    assert (world.root / "bom.txt").read_bytes() == codecs.BOM_UTF8 + "näive\n".encode()
    assert (world.root / "latin.txt").read_bytes() == "café brûlée\n".encode("latin-1")


async def test_binary_files_are_not_edited(guarded: Session, world: World) -> None:
    (world.root / "b.bin").write_bytes(b"\x00\x01\x02abc")
    await guarded.error(
        "files_write", "VALIDATION_ERROR", operation="edit", path="b.bin", edits=[{"old": "abc", "new": "x"}]
    )
    assert (world.root / "b.bin").read_bytes() == b"\x00\x01\x02abc"


@pytest.mark.parametrize(
    "edits",
    [[], [{"old": "", "new": "x"}], [{"old": "a", "new": "a"}], [{"old": "a"}], [{"old": "a", "new": "b", "x": 1}]],
    ids=str,
)
async def test_malformed_edits_are_validation_errors(guarded: Session, world: World, edits) -> None:
    (world.root / "a.txt").write_text("a\n")
    await guarded.error("files_write", "VALIDATION_ERROR", operation="edit", path="a.txt", edits=edits)
    assert (world.root / "a.txt").read_text() == "a\n"


async def test_editing_a_missing_file_is_not_found(guarded: Session) -> None:
    await guarded.error("files_write", "NOT_FOUND", operation="edit", path="nope.txt", edits=[{"old": "a", "new": "b"}])


# --- mkdir ----------------------------------------------------------------------------------------


async def test_mkdir_creates_one_directory_or_a_chain_with_parents(guarded: Session, world: World) -> None:
    await guarded.ok("files_write", operation="mkdir", path="d")
    assert (world.root / "d").is_dir()
    await guarded.error("files_write", "CONFLICT", operation="mkdir", path="d")
    await guarded.error("files_write", "NOT_FOUND", operation="mkdir", path="x/y/z")
    data = await guarded.ok("files_write", operation="mkdir", path="x/y/z", parents=True)
    assert data["created"] == ["x", "x/y", "x/y/z"] and (world.root / "x/y/z").is_dir()
    again = await guarded.ok("files_write", operation="mkdir", path="x/y/z", parents=True)
    assert again["existed"] is True


async def test_mkdir_over_a_file_is_a_conflict(guarded: Session, world: World) -> None:
    (world.root / "f").write_text("x")
    await guarded.error("files_write", "CONFLICT", operation="mkdir", path="f", parents=True)


# --- move -----------------------------------------------------------------------------------------


async def test_move_renames_a_file(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("a")
    (world.root / "sub").mkdir()
    await guarded.ok("files_write", operation="move", path="a.txt", destination="sub/b.txt")
    assert not (world.root / "a.txt").exists() and (world.root / "sub" / "b.txt").read_text() == "a"


async def test_move_refuses_to_overwrite_unless_told(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("a")
    (world.root / "b.txt").write_text("b")
    error = await guarded.error("files_write", "CONFLICT", operation="move", path="a.txt", destination="b.txt")
    assert "overwrite: true" in " ".join(error["recovery_steps"])
    assert (world.root / "a.txt").read_text() == "a" and (world.root / "b.txt").read_text() == "b"
    data = await guarded.ok("files_write", operation="move", path="a.txt", destination="b.txt", overwrite=True)
    assert data["replaced"] is True and (world.root / "b.txt").read_text() == "a"


async def test_moving_onto_a_hard_link_of_the_same_file_needs_overwrite_and_completes(
    guarded: Session, world: World
) -> None:
    (world.root / "a.txt").write_text("same")
    os.link(world.root / "a.txt", world.root / "b.txt")
    await guarded.error("files_write", "CONFLICT", operation="move", path="a.txt", destination="b.txt")
    await guarded.ok("files_write", operation="move", path="a.txt", destination="b.txt", overwrite=True)
    assert not (world.root / "a.txt").exists() and (world.root / "b.txt").read_text() == "same"


async def test_a_rename_that_changes_only_case_works(guarded: Session, world: World) -> None:
    (world.root / "readme.md").write_text("r")
    await guarded.ok("files_write", operation="move", path="readme.md", destination="README.md")
    assert [p.name for p in world.root.iterdir()] == ["README.md"]


async def test_move_of_directories(guarded: Session, world: World) -> None:
    (world.root / "d" / "inner").mkdir(parents=True)
    (world.root / "d" / "inner" / "f").write_text("x")
    (world.root / "full").mkdir()
    (world.root / "full" / "g").write_text("y")
    await guarded.error("files_write", "VALIDATION_ERROR", operation="move", path="d", destination="d/inner/d2")
    await guarded.error("files_write", "CONFLICT", operation="move", path="d", destination="full", overwrite=True)
    (world.root / "f.txt").write_text("z")
    await guarded.error("files_write", "CONFLICT", operation="move", path="f.txt", destination="full", overwrite=True)
    await guarded.ok("files_write", operation="move", path="d", destination="e")
    assert (world.root / "e" / "inner" / "f").read_text() == "x"


async def test_move_across_roots(connect, files_settings, world: World) -> None:
    (world.root / "a.txt").write_text("moving")
    roots = {"one": {"path": str(world.root)}, "two": {"path": str(world.sibling)}}
    async with connect(files_settings(roots)) as session:
        await session.ok(
            "files_write", operation="move", root="one", path="a.txt", destination="b.txt", destination_root="two"
        )
    assert not (world.root / "a.txt").exists() and (world.sibling / "b.txt").read_text() == "moving"


async def test_a_missing_source_is_not_found(guarded: Session) -> None:
    await guarded.error("files_write", "NOT_FOUND", operation="move", path="nope", destination="x")


def test_a_file_is_copied_then_removed_when_a_move_crosses_file_systems(world: World, tmp_path: Path) -> None:
    """The EXDEV path of move, driven directly (two file systems are not always at hand)."""
    (world.root / "a.txt").write_text("payload")
    (world.root / "a.txt").chmod(0o640)
    source_box = Sandbox("root", world.root, read_only=False)
    target_box = Sandbox("other", world.sibling, read_only=False)
    src, dst = source_box.resolve(("a.txt",), follow=False), target_box.resolve(("b.txt",), follow=False)
    with source_box.open_parent(src)[0] as src_dir, target_box.open_parent(dst)[0] as dst_dir:
        moving = src_dir.lstat("a.txt")
        copy_across_devices(source_box, src_dir, src, dst_dir=dst_dir, dst=dst, moving=moving, replace=False)
    assert not (world.root / "a.txt").exists()
    assert (world.sibling / "b.txt").read_text() == "payload" and (
        world.sibling / "b.txt"
    ).stat().st_mode & 0o777 == 0o640
    assert temp_files(world.sibling) == [] and display(dst.parts) == "b.txt"


# --- delete ---------------------------------------------------------------------------------------


async def test_delete_removes_a_file(guarded: Session, world: World) -> None:
    (world.root / "a.txt").write_text("a")
    await guarded.ok("files_write", operation="delete", path="a.txt")
    assert not (world.root / "a.txt").exists()
    await guarded.error("files_write", "NOT_FOUND", operation="delete", path="a.txt")


async def test_a_directory_is_deleted_only_when_empty_unless_recursive(guarded: Session, world: World) -> None:
    (world.root / "d" / "e").mkdir(parents=True)
    (world.root / "d" / "e" / "f.txt").write_text("x")
    error = await guarded.error("files_write", "CONFLICT", operation="delete", path="d")
    assert error["details"]["entries"] == 2 and "recursive: true" in " ".join(error["recovery_steps"])
    dry = await guarded.ok("files_write", operation="delete", path="d", recursive=True, dry_run=True)
    assert dry["entries"] == 2 and (world.root / "d" / "e" / "f.txt").exists()
    await guarded.ok("files_write", operation="delete", path="d", recursive=True)
    assert not (world.root / "d").exists()
    (world.root / "empty").mkdir()
    await guarded.ok("files_write", operation="delete", path="empty")
    assert not (world.root / "empty").exists()


async def test_a_recursive_delete_over_the_entry_cap_is_refused(connect, files_settings, world: World) -> None:
    (world.root / "d").mkdir()
    for n in range(20):
        (world.root / "d" / str(n)).write_text("x")
    async with connect(files_settings(max_delete_entries=10)) as session:
        await session.error("files_write", "TOO_LARGE", operation="delete", path="d", recursive=True)
    assert len(list((world.root / "d").iterdir())) == 20


async def test_the_root_itself_cannot_be_deleted_or_moved(guarded: Session, world: World) -> None:
    (world.root / "keep").write_text("x")
    await guarded.error("files_write", "VALIDATION_ERROR", operation="delete", path="", recursive=True)
    await guarded.error("files_write", "PERMISSION_DENIED", operation="delete", path=".", recursive=True)
    await guarded.error("files_write", "PERMISSION_DENIED", operation="move", path=".", destination="elsewhere")
    assert (world.root / "keep").exists()
