"""Hostile paths, one test case each: every attack gets its error code, and nothing outside the
root is read (the secret never appears in an answer) or changed (the ``guarded`` fingerprint of
the world outside the root, including the sibling ``rootX``, is the same afterwards)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.support.files_world import SECRET, World
from tests.support.session import Session

pytestmark = pytest.mark.anyio


@pytest.fixture
def armed(world: World) -> World:
    """A root full of traps."""
    root = world.root
    (root / "inside.txt").write_text("inside\n")
    (root / "dir").mkdir()
    (root / "dir" / "file.txt").write_text("in dir\n")
    (root / "link_out").symlink_to(world.secret)
    (root / "link_out_rel").symlink_to("../outside/secret.txt")
    (root / "linkdir").symlink_to(world.outside, target_is_directory=True)
    (root / "dir" / "up").symlink_to("../../outside", target_is_directory=True)
    (root / "link_sibling").symlink_to(world.sibling / "secret.txt")
    (root / "dangling_out").symlink_to(world.base / "created-outside.txt")
    (root / "dangling_dir").symlink_to(world.base / "newdir", target_is_directory=True)
    (root / "link_in").symlink_to("inside.txt")
    (root / "loop_a").symlink_to("loop_b")
    (root / "loop_b").symlink_to("loop_a")
    os.mkfifo(root / "pipe")
    return world


def no_secret(outcome_text: str) -> None:
    assert SECRET.decode().strip() not in outcome_text


async def attack(session: Session, tool: str, code: str, arguments: dict[str, Any]) -> dict[str, Any]:
    outcome = await session.call(tool, **arguments)
    no_secret(outcome.text)
    assert outcome.is_error, f"expected {code}, got success: {outcome.text}"
    assert outcome.code == code, outcome.text
    assert outcome.data["recovery_steps"], "every refusal says what to do instead"
    return outcome.data


READ_ATTACKS = [
    ("dotdot", {"operation": "read", "path": "../outside/secret.txt"}, "PERMISSION_DENIED"),
    ("dotdot_sibling_prefix", {"operation": "read", "path": "../rootX/secret.txt"}, "PERMISSION_DENIED"),
    ("dotdot_deep", {"operation": "read", "path": "dir/../../outside/secret.txt"}, "PERMISSION_DENIED"),
    ("dotdot_backslash", {"operation": "read", "path": "..\\outside\\secret.txt"}, "PERMISSION_DENIED"),
    ("absolute_posix", {"operation": "read", "path": "/etc/passwd"}, "PERMISSION_DENIED"),
    ("absolute_drive", {"operation": "read", "path": "C:\\Windows\\win.ini"}, "PERMISSION_DENIED"),
    ("drive_relative", {"operation": "read", "path": "C:secret.txt"}, "PERMISSION_DENIED"),
    ("unc", {"operation": "read", "path": "\\\\server\\share\\secret.txt"}, "PERMISSION_DENIED"),
    ("unc_forward", {"operation": "read", "path": "//server/share/secret.txt"}, "PERMISSION_DENIED"),
    ("device_namespace", {"operation": "read", "path": "\\\\.\\PhysicalDrive0"}, "PERMISSION_DENIED"),
    ("nul_byte", {"operation": "read", "path": "inside.txt\x00../../outside/secret.txt"}, "VALIDATION_ERROR"),
    ("backslash", {"operation": "read", "path": "dir\\file.txt"}, "VALIDATION_ERROR"),
    ("newline", {"operation": "read", "path": "inside.txt\n"}, "VALIDATION_ERROR"),
    ("long_name", {"operation": "read", "path": "a" * 300}, "VALIDATION_ERROR"),
    ("long_path", {"operation": "read", "path": "a/" * 2100}, "VALIDATION_ERROR"),
    ("link_absolute", {"operation": "read", "path": "link_out"}, "PERMISSION_DENIED"),
    ("link_relative", {"operation": "read", "path": "link_out_rel"}, "PERMISSION_DENIED"),
    ("link_to_sibling", {"operation": "read", "path": "link_sibling"}, "PERMISSION_DENIED"),
    ("linked_parent", {"operation": "read", "path": "linkdir/secret.txt"}, "PERMISSION_DENIED"),
    ("linked_parent_relative", {"operation": "read", "path": "dir/up/secret.txt"}, "PERMISSION_DENIED"),
    ("list_linked_dir", {"operation": "list", "path": "linkdir"}, "PERMISSION_DENIED"),
    ("tree_linked_dir", {"operation": "tree", "path": "dir/up"}, "PERMISSION_DENIED"),
    ("search_linked_dir", {"operation": "search", "path": "linkdir", "contains": "SECRET"}, "PERMISSION_DENIED"),
    ("info_through_link", {"operation": "info", "path": "linkdir/secret.txt"}, "PERMISSION_DENIED"),
    ("dangling_outside", {"operation": "read", "path": "dangling_out"}, "PERMISSION_DENIED"),
    ("loop", {"operation": "read", "path": "loop_a"}, "VALIDATION_ERROR"),
    ("loop_parent", {"operation": "read", "path": "loop_a/x"}, "VALIDATION_ERROR"),
    ("fifo", {"operation": "read", "path": "pipe"}, "PERMISSION_DENIED"),
    ("root_name_traversal", {"operation": "read", "root": "../outside", "path": "secret.txt"}, "NOT_FOUND"),
]


@pytest.mark.parametrize(("arguments", "code"), [a[1:] for a in READ_ATTACKS], ids=[a[0] for a in READ_ATTACKS])
async def test_read_attacks_are_refused(guarded: Session, armed: World, arguments: dict[str, Any], code: str) -> None:
    await attack(guarded, "files_read", code, arguments)


async def test_an_absolute_path_inside_the_root_is_refused_with_the_relative_one_to_use(
    guarded: Session, armed: World
) -> None:
    data = await attack(
        guarded, "files_read", "PERMISSION_DENIED", {"operation": "read", "path": str(armed.root / "dir/file.txt")}
    )
    assert "path='dir/file.txt'" in data["recovery_steps"][0]
    await attack(guarded, "files_read", "PERMISSION_DENIED", {"operation": "read", "path": str(armed.secret)})


async def test_a_link_inside_the_root_is_read_through(guarded: Session, armed: World) -> None:
    data = await guarded.ok("files_read", operation="read", path="link_in")
    assert data["content"] == "inside\n"


async def test_listing_shows_links_but_not_where_outside_ones_go(guarded: Session, armed: World) -> None:
    outcome = await guarded.call("files_read", operation="list")
    entries = {e["name"]: e for e in outcome.data["entries"]}
    assert entries["link_in"]["target"] == "inside.txt"
    assert entries["link_out"]["target"] is None and entries["linkdir"]["target"] is None
    assert str(armed.outside) not in outcome.text and "outside" not in json.dumps(entries["link_out"])


async def test_info_describes_an_outside_link_without_following_it(guarded: Session, armed: World) -> None:
    data = await guarded.ok("files_read", operation="info", path="link_out")
    assert data["type"] == "symlink" and data["target"] is None and data["target_inside_root"] is False
    assert "content" not in data


async def test_tree_and_search_never_follow_links_out(guarded: Session, armed: World) -> None:
    tree = await guarded.ok("files_read", operation="tree", depth=5, gitignore=False)
    paths = {e["path"] for e in tree["entries"]}
    assert "linkdir" in paths and not any(p.startswith(("linkdir/", "dir/up/")) for p in paths)
    found = await guarded.call("files_read", operation="search", contains="TOP SECRET", gitignore=False)
    assert found.data["matches"] == []
    no_secret(found.text)
    named = await guarded.ok("files_read", operation="search", pattern="secret.txt", gitignore=False)
    assert named["matches"] == []


async def test_the_file_resource_refuses_escapes(guarded: Session, armed: World) -> None:
    from mcp.shared.exceptions import MCPError

    for uri in (
        "files://root/link_out",
        "files://root/linkdir/secret.txt",
        "files://root/..%2Foutside%2Fsecret.txt",
        "files://root/%2Fetc%2Fpasswd",
        "files://root/dir/..%5C..%5Coutside%5Csecret.txt",
    ):
        with pytest.raises(MCPError) as raised:
            await guarded.client.read_resource(uri)
        no_secret(str(raised.value))


WRITE_ATTACKS = [
    ("dotdot", {"operation": "write", "path": "../outside/new.txt", "content": "x"}, "PERMISSION_DENIED"),
    ("dotdot_sibling", {"operation": "write", "path": "../rootX/secret.txt", "content": "x"}, "PERMISSION_DENIED"),
    ("absolute", {"operation": "write", "path": "/tmp/evil.txt", "content": "x"}, "PERMISSION_DENIED"),
    ("drive", {"operation": "write", "path": "C:\\evil.txt", "content": "x"}, "PERMISSION_DENIED"),
    ("over_outside_link", {"operation": "write", "path": "link_out", "content": "x"}, "PERMISSION_DENIED"),
    ("over_inside_link", {"operation": "write", "path": "link_in", "content": "x"}, "PERMISSION_DENIED"),
    ("through_dangling", {"operation": "write", "path": "dangling_out", "content": "x"}, "PERMISSION_DENIED"),
    (
        "create_only_dangling",
        {"operation": "write", "path": "dangling_out", "content": "x", "create_only": True},
        "PERMISSION_DENIED",
    ),
    ("into_linked_dir", {"operation": "write", "path": "linkdir/new.txt", "content": "x"}, "PERMISSION_DENIED"),
    ("over_linked_secret", {"operation": "write", "path": "linkdir/secret.txt", "content": "x"}, "PERMISSION_DENIED"),
    (
        "parents_through_dangling_dir",
        {"operation": "write", "path": "dangling_dir/a/b.txt", "content": "x", "parents": True},
        "PERMISSION_DENIED",
    ),
    ("into_fifo", {"operation": "write", "path": "pipe", "content": "x"}, "PERMISSION_DENIED"),
    ("nul", {"operation": "write", "path": "a\x00b", "content": "x"}, "VALIDATION_ERROR"),
    ("reserved_name", {"operation": "write", "path": "dir/aux.txt", "content": "x"}, "VALIDATION_ERROR"),
    ("stream", {"operation": "write", "path": "inside.txt:hidden", "content": "x"}, "VALIDATION_ERROR"),
    (
        "edit_outside_link",
        {"operation": "edit", "path": "link_out", "edits": [{"old": "TOP", "new": "x"}]},
        "PERMISSION_DENIED",
    ),
    (
        "edit_linked_dir",
        {"operation": "edit", "path": "linkdir/secret.txt", "edits": [{"old": "TOP", "new": "x"}]},
        "PERMISSION_DENIED",
    ),
    (
        "edit_dotdot",
        {"operation": "edit", "path": "../outside/secret.txt", "edits": [{"old": "TOP", "new": "x"}]},
        "PERMISSION_DENIED",
    ),
    ("mkdir_in_linked_dir", {"operation": "mkdir", "path": "linkdir/new"}, "PERMISSION_DENIED"),
    ("mkdir_dangling_dir", {"operation": "mkdir", "path": "dangling_dir"}, "PERMISSION_DENIED"),
    ("mkdir_parents_dangling", {"operation": "mkdir", "path": "dangling_dir/x", "parents": True}, "PERMISSION_DENIED"),
    (
        "move_to_outside",
        {"operation": "move", "path": "inside.txt", "destination": "../outside/x"},
        "PERMISSION_DENIED",
    ),
    (
        "move_into_linked_dir",
        {"operation": "move", "path": "inside.txt", "destination": "linkdir/x"},
        "PERMISSION_DENIED",
    ),
    (
        "move_from_linked_dir",
        {"operation": "move", "path": "linkdir/secret.txt", "destination": "stolen.txt"},
        "PERMISSION_DENIED",
    ),
    ("move_absolute", {"operation": "move", "path": "inside.txt", "destination": "/tmp/x"}, "PERMISSION_DENIED"),
    ("delete_dotdot", {"operation": "delete", "path": "../outside/secret.txt"}, "PERMISSION_DENIED"),
    ("delete_through_link", {"operation": "delete", "path": "linkdir/secret.txt"}, "PERMISSION_DENIED"),
    (
        "delete_linked_dir_contents",
        {"operation": "delete", "path": "dir/up/dir", "recursive": True},
        "PERMISSION_DENIED",
    ),
    ("delete_fifo", {"operation": "delete", "path": "pipe"}, "PERMISSION_DENIED"),
    ("delete_root", {"operation": "delete", "path": ".", "recursive": True}, "PERMISSION_DENIED"),
]


@pytest.mark.parametrize(("arguments", "code"), [a[1:] for a in WRITE_ATTACKS], ids=[a[0] for a in WRITE_ATTACKS])
async def test_write_attacks_are_refused(guarded: Session, armed: World, arguments: dict[str, Any], code: str) -> None:
    before = sorted(p.name for p in armed.root.iterdir())
    await attack(guarded, "files_write", code, arguments)
    assert sorted(p.name for p in armed.root.iterdir()) == before
    assert (armed.root / "inside.txt").read_text() == "inside\n"


async def test_writing_to_an_inside_link_names_its_target(guarded: Session, armed: World) -> None:
    data = await attack(
        guarded, "files_write", "PERMISSION_DENIED", {"operation": "write", "path": "link_in", "content": "x"}
    )
    assert "'inside.txt'" in data["recovery_steps"][1]


async def test_deleting_a_link_removes_the_link_not_its_target(guarded: Session, armed: World) -> None:
    await guarded.ok("files_write", operation="delete", path="link_out")
    await guarded.ok("files_write", operation="delete", path="linkdir")
    assert not (armed.root / "link_out").is_symlink() and not (armed.root / "linkdir").is_symlink()
    assert armed.secret.read_bytes() == SECRET


async def test_a_recursive_delete_does_not_follow_links_out(guarded: Session, armed: World) -> None:
    await guarded.ok("files_write", operation="delete", path="dir", recursive=True)
    assert not (armed.root / "dir").exists()
    assert (armed.outside / "dir" / "inner.txt").read_bytes() == SECRET


async def test_moving_a_link_moves_the_link_itself(guarded: Session, armed: World) -> None:
    await guarded.ok("files_write", operation="move", path="link_out", destination="dir/moved_link")
    assert os.readlink(armed.root / "dir" / "moved_link") == str(armed.secret)


async def test_overwriting_an_outside_link_by_move_replaces_only_the_link(guarded: Session, armed: World) -> None:
    await guarded.ok("files_write", operation="move", path="inside.txt", destination="link_out", overwrite=True)
    assert not (armed.root / "link_out").is_symlink() and (armed.root / "link_out").read_text() == "inside\n"


# --- read-only roots -------------------------------------------------------------------------------

READ_ONLY_WRITES = [
    {"operation": "write", "path": "new.txt", "content": "x"},
    {"operation": "write", "path": "a.txt", "content": "x"},
    {"operation": "edit", "path": "a.txt", "edits": [{"old": "a", "new": "b"}]},
    {"operation": "edit", "path": "a.txt", "edits": [{"old": "a", "new": "b"}], "dry_run": True},
    {"operation": "mkdir", "path": "d2"},
    {"operation": "move", "path": "a.txt", "destination": "b.txt"},
    {"operation": "delete", "path": "a.txt"},
    {"operation": "delete", "path": "d", "recursive": True},
]


@pytest.fixture
async def mixed(connect, files_settings, world: World):
    """Two roots: 'ro' (read-only, the world's root) and 'rw' (writable, the sibling)."""
    (world.root / "a.txt").write_text("a")
    (world.root / "d").mkdir()
    roots = {"ro": {"path": str(world.root), "read_only": True}, "rw": {"path": str(world.sibling)}}
    async with connect(files_settings(roots)) as session:
        yield session


@pytest.mark.parametrize("arguments", READ_ONLY_WRITES, ids=lambda a: f"{a['operation']}-{a['path']}")
async def test_every_write_to_a_read_only_root_is_read_only(mixed: Session, world: World, arguments) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in world.root.iterdir()}
    await attack(mixed, "files_write", "READ_ONLY", {"root": "ro", **arguments})
    assert {p.name: p.stat().st_mtime_ns for p in world.root.iterdir()} == before
    assert (world.root / "a.txt").read_text() == "a"


async def test_moves_between_a_read_only_and_a_writable_root_are_read_only(mixed: Session, world: World) -> None:
    (world.sibling / "mine.txt").write_text("m")
    await attack(
        mixed,
        "files_write",
        "READ_ONLY",
        {"operation": "move", "root": "rw", "path": "mine.txt", "destination": "x.txt", "destination_root": "ro"},
    )
    await attack(
        mixed,
        "files_write",
        "READ_ONLY",
        {"operation": "move", "root": "ro", "path": "a.txt", "destination": "x.txt", "destination_root": "rw"},
    )
    assert (world.sibling / "mine.txt").exists() and (world.root / "a.txt").exists()


async def test_reading_a_read_only_root_works(mixed: Session) -> None:
    assert (await mixed.ok("files_read", operation="read", root="ro", path="a.txt"))["content"] == "a"
    roots = (await mixed.ok("files_read", operation="roots"))["roots"]
    assert [(r["name"], r["read_only"]) for r in roots] == [("ro", True), ("rw", False)]


async def test_a_read_only_root_nested_in_a_writable_one_stays_read_only(connect, files_settings, world: World) -> None:
    docs = world.root / "area" / "docs"
    docs.mkdir(parents=True)
    (docs / "spec.md").write_text("spec")
    roots = {"proj": {"path": str(world.root)}, "docs": {"path": str(docs), "read_only": True}}
    async with connect(files_settings(roots)) as session:
        base = {"root": "proj"}
        for arguments, code in [
            ({"operation": "write", "path": "area/docs/spec.md", "content": "x"}, "READ_ONLY"),
            ({"operation": "delete", "path": "area/docs/spec.md"}, "READ_ONLY"),
            ({"operation": "delete", "path": "area/docs", "recursive": True}, "READ_ONLY"),
            ({"operation": "delete", "path": "area", "recursive": True}, "PERMISSION_DENIED"),
            ({"operation": "move", "path": "area", "destination": "elsewhere"}, "PERMISSION_DENIED"),
        ]:
            await attack(session, "files_write", code, {**base, **arguments})
        (world.root / "link_to_docs").symlink_to("area/docs")
        await attack(
            session,
            "files_write",
            "READ_ONLY",
            {**base, "operation": "write", "path": "link_to_docs/new.md", "content": "x"},
        )
        await session.ok("files_write", operation="write", root="proj", path="area/free.txt", content="ok")
    assert (docs / "spec.md").read_text() == "spec" and sorted(p.name for p in docs.iterdir()) == ["spec.md"]


async def test_without_a_writable_root_there_is_no_files_write_tool(connect, files_settings, world: World) -> None:
    async with connect(files_settings({"ro": {"path": str(world.root), "read_only": True}})) as session:
        names = [tool.name for tool in await session.client.list_tools()]
        assert "files_read" in names and "files_write" not in names
