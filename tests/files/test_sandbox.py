"""Resolution and reaching inside one root, with both strategies: directory descriptors
(``openat`` + ``O_NOFOLLOW``, POSIX) and the by-path fallback used where ``dir_fd`` is missing."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from mcp_workbench.files import writing
from mcp_workbench.files.models import EditSpec
from mcp_workbench.files.roots import RootSet
from mcp_workbench.files.sandbox import Sandbox, Target
from mcp_workbench.files.settings import FilesSettings, RootSettings
from mcp_workbench.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.support.files_world import SECRET, World


@pytest.fixture(params=[True, False], ids=["dir_fd", "by_path"])
def box(request: pytest.FixtureRequest, world: World) -> Sandbox:
    return Sandbox("root", world.root, read_only=False, use_dir_fd=request.param)


def read_through(box: Sandbox, *parts: str) -> bytes:
    fd, _ = box.open_file(box.resolve(parts))
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def test_the_root_is_held_by_its_real_path(world: World, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(world.root)
    assert Sandbox("r", alias, read_only=False).path == world.root.resolve()


def test_a_link_inside_the_root_is_followed_to_its_target(box: Sandbox, world: World) -> None:
    (world.root / "docs").mkdir()
    (world.root / "docs" / "a.txt").write_text("inside")
    (world.root / "shortcut").symlink_to("docs")
    target = box.resolve(("shortcut", "a.txt"))
    assert target.real == ("docs", "a.txt")
    assert read_through(box, "shortcut", "a.txt") == b"inside"


def test_without_follow_the_final_link_itself_is_the_target(box: Sandbox, world: World) -> None:
    (world.root / "link").symlink_to("elsewhere")
    assert box.resolve(("link",), follow=False).real == ("link",)


@pytest.mark.parametrize("how", ["absolute", "relative", "parent_dir"])
def test_links_that_lead_outside_are_refused(box: Sandbox, world: World, how: str) -> None:
    if how == "absolute":
        (world.root / "l").symlink_to(world.secret)
        parts: tuple[str, ...] = ("l",)
    elif how == "relative":
        (world.root / "l").symlink_to("../outside/secret.txt")
        parts = ("l",)
    else:
        (world.root / "l").symlink_to(world.outside, target_is_directory=True)
        parts = ("l", "secret.txt")
    with pytest.raises(PermissionDenied) as raised:
        box.resolve(parts)
    assert raised.value.details["reason"] == "symlink_escape"


def test_a_link_to_the_sibling_named_like_the_root_is_outside(box: Sandbox, world: World) -> None:
    (world.root / "l").symlink_to(world.sibling / "secret.txt")
    with pytest.raises(PermissionDenied):
        box.resolve(("l",))


def test_a_dangling_link_pointing_outside_is_refused_even_unfollowed_as_a_parent(box: Sandbox, world: World) -> None:
    (world.root / "d").symlink_to(world.base / "nowhere", target_is_directory=True)
    with pytest.raises(PermissionDenied):
        box.resolve(("d", "new.txt"), follow=False)
    assert not (world.base / "nowhere").exists()


def test_a_link_loop_is_a_validation_error(box: Sandbox, world: World) -> None:
    (world.root / "a").symlink_to("b")
    (world.root / "b").symlink_to("a")
    with pytest.raises(InvalidInput, match="loop"):
        box.resolve(("a",))
    with pytest.raises(InvalidInput, match="loop"):
        box.resolve(("a", "x"))


def test_a_dangling_link_inside_resolves_to_a_missing_file(box: Sandbox, world: World) -> None:
    (world.root / "l").symlink_to("missing.txt")
    with pytest.raises(NotFound):
        box.open_file(box.resolve(("l",)))


def test_a_directory_swapped_for_an_outside_link_after_resolving_is_not_entered(box: Sandbox, world: World) -> None:
    (world.root / "a").mkdir()
    (world.root / "a" / "secret.txt").write_text("inside")
    target = box.resolve(("a", "secret.txt"))
    (world.root / "a" / "secret.txt").unlink()
    (world.root / "a").rmdir()
    (world.root / "a").symlink_to(world.outside, target_is_directory=True)
    with pytest.raises(Conflict, match="changed"):
        box.open_file(target)


def test_a_file_swapped_for_a_link_after_resolving_is_not_opened(box: Sandbox, world: World) -> None:
    (world.root / "f.txt").write_text("inside")
    target = box.resolve(("f.txt",))
    (world.root / "f.txt").unlink()
    (world.root / "f.txt").symlink_to(world.secret)
    with pytest.raises(Conflict):
        box.open_file(target)


def test_a_fifo_is_refused_without_being_opened(box: Sandbox, world: World) -> None:
    os.mkfifo(world.root / "pipe")
    with pytest.raises(PermissionDenied, match="fifo"):
        box.open_file(box.resolve(("pipe",)))


def test_a_socket_is_refused(box: Sandbox, world: World) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(world.root / "s.sock"))
        with pytest.raises(PermissionDenied, match="socket"):
            box.open_file(box.resolve(("s.sock",)))
    finally:
        server.close()


def test_a_directory_is_not_opened_as_a_file(box: Sandbox, world: World) -> None:
    (world.root / "d").mkdir()
    with pytest.raises(InvalidInput, match="directory"):
        box.open_file(box.resolve(("d",)))


def test_walking_through_a_file_says_it_is_not_a_directory(box: Sandbox, world: World) -> None:
    (world.root / "f").write_text("x")
    with pytest.raises(InvalidInput, match="is a file, not a directory"):
        box.open_dir(("f", "x"))


def test_missing_directories_are_created_only_when_asked(box: Sandbox, world: World) -> None:
    with pytest.raises(NotFound):
        box.open_dir(("a", "b"))
    handle, created = box.open_dir(("a", "b"), create=True)
    handle.close()
    assert created == ["a", "a/b"]
    assert (world.root / "a" / "b").is_dir()


def test_a_link_names_its_inside_target_but_never_an_outside_one(box: Sandbox, world: World) -> None:
    (world.root / "in").symlink_to("docs/a.md")
    (world.root / "out").symlink_to(world.secret)
    with box.open_root() as root:
        assert box.link_destination(root, "in") == "docs/a.md"
        assert box.link_destination(root, "out") is None


def test_a_vanished_root_is_not_found(world: World, tmp_path: Path) -> None:
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    box = Sandbox("doomed", doomed, read_only=False)
    doomed.rmdir()
    with pytest.raises(NotFound):
        box.open_root()


def test_reading_through_the_sandbox_returns_the_bytes(box: Sandbox, world: World) -> None:
    (world.root / "f.bin").write_bytes(SECRET)
    assert read_through(box, "f.bin") == SECRET
    assert stat.S_ISDIR(os.stat(world.root).st_mode)


@pytest.mark.parametrize("use_dir_fd", [True, False], ids=["dir_fd", "by_path"])
def test_every_write_operation_works_with_both_strategies(world: World, use_dir_fd: bool) -> None:
    """The write operations run against the same directory-handle interface either way."""
    settings = FilesSettings(roots={"root": RootSettings(path=world.root)})
    roots = RootSet(settings, use_dir_fd=use_dir_fd)
    box = roots.get("root")
    limits = writing.Limits(max_write_bytes=1 << 20, max_diff_chars=10_000, max_delete_entries=100)

    def at(path: str, *, follow: bool = False) -> tuple[Sandbox, Target]:
        return roots.locate("root", path, follow=follow)

    writing.write_file(
        roots,
        box,
        at("d/a.txt")[1],
        content="one\n",
        encoding="utf-8",
        create_only=True,
        parents=True,
        dry_run=False,
        limits=limits,
    )
    with pytest.raises(Conflict):
        writing.write_file(
            roots,
            box,
            at("d/a.txt")[1],
            content="x",
            encoding="utf-8",
            create_only=True,
            parents=False,
            dry_run=False,
            limits=limits,
        )
    edit = EditSpec(old="one", new="two")
    writing.edit_file(roots, box, at("d/a.txt")[1], edits=[edit], dry_run=False, limits=limits)
    writing.make_directory(roots, box, at("e")[1], parents=False, dry_run=False)
    writing.move(roots, at("d/a.txt"), at("e/b.txt"), overwrite=False, dry_run=False)
    (world.root / "link").symlink_to(world.secret)
    with pytest.raises(PermissionDenied):
        writing.write_file(
            roots,
            box,
            at("link")[1],
            content="x",
            encoding="utf-8",
            create_only=False,
            parents=False,
            dry_run=False,
            limits=limits,
        )
    writing.delete(roots, box, at("link")[1], recursive=False, dry_run=False, limits=limits)
    assert (world.root / "e" / "b.txt").read_text() == "two\n" and world.secret.read_bytes() == SECRET
    writing.delete(roots, box, at("e")[1], recursive=True, dry_run=False, limits=limits)
    writing.delete(roots, box, at("d")[1], recursive=False, dry_run=False, limits=limits)
    assert sorted(p.name for p in world.root.iterdir()) == []


def test_a_root_replaced_by_a_link_after_start_is_not_followed(box: Sandbox, world: World) -> None:
    (world.root / "secret.txt").write_text("inside")
    target = box.resolve(("secret.txt",))
    world.root.rename(world.base / "moved-away")
    world.root.symlink_to(world.outside, target_is_directory=True)
    with pytest.raises(Conflict):
        box.open_file(target)
