"""A path that changes kind while a call uses it: every operation answers as if the path had
been in one state or the other, or with the retryable CONFLICT "changed; retry" — never an
INTERNAL_ERROR, and nothing outside the root is ever touched.

The races are made deterministic through the sandbox's seam: every file-system call of an
operation goes through its directory handles (``Sandbox.dir_class``), and :class:`Flipping`
changes the tree right before the k-th of them. Each operation is run with the change before
every one of its calls in turn (k = 0 is between resolving the path and reaching it), for
every ordered pair of states. The through-the-client class then flips the path from a thread
during real tool calls, in both protocol eras.
"""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mcp_workbench.files import reading, writing
from mcp_workbench.files.handles import FdDir
from mcp_workbench.files.models import EditSpec
from mcp_workbench.files.oserrors import CONTRADICTIONS, PathChanged, fs_error
from mcp_workbench.files.roots import RootSet
from mcp_workbench.files.settings import FilesSettings, RootSettings
from mcp_workbench.platform.errors import WorkbenchError
from tests.support.files_world import World, fingerprint
from tests.support.session import Session

Outcome = tuple[str, bool]
OK: Outcome = ("ok", False)
CHANGED: Outcome = ("CONFLICT", True)

# --- the states a path "x" in the root can be in -------------------------------------------------


def _clear(path: Path) -> None:
    if path.is_symlink() or path.is_file() or path.is_fifo():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def put_state(world: World, state: str) -> None:
    """Make ``root/x`` be ``state``; the rest of the root is reset to its fixed content."""
    for entry in list(world.root.iterdir()):
        _clear(entry)
    (world.root / "inner.txt").write_text("inner f\n")
    (world.root / "realdir").mkdir()
    (world.root / "realdir" / "f.txt").write_text("real f\n")
    x = world.root / "x"
    if state == "file":
        x.write_text("file f\n")
    elif state == "dir":
        x.mkdir()
        (x / "f.txt").write_text("dir f\n")
    elif state == "fifo":
        os.mkfifo(x)
    elif state == "link_in":
        x.symlink_to("inner.txt")
    elif state == "dirlink_in":
        x.symlink_to("realdir")
    elif state == "link_out":
        x.symlink_to(world.secret)
    elif state == "dirlink_out":
        x.symlink_to(world.outside)
    else:
        assert state == "missing"


STATES = ["file", "dir", "fifo", "link_in", "dirlink_in", "link_out", "dirlink_out", "missing"]


# --- the seam --------------------------------------------------------------------------------------


@dataclass
class Schedule:
    flip_at: int = -1
    flip: Callable[[], None] = lambda: None
    calls: int = 0

    def tick(self) -> None:
        if self.calls == self.flip_at:
            self.flip()
        self.calls += 1


class Flipping(FdDir):
    """Directory handles that run ``schedule.flip`` right before the k-th file-system call."""

    schedule: ClassVar[Schedule] = Schedule()

    @classmethod
    def open_root(cls, path: Path) -> FdDir:
        cls.schedule.tick()
        return super().open_root(path)

    def lstat(self, name: str) -> os.stat_result:
        self.schedule.tick()
        return super().lstat(name)

    def child(self, name: str) -> FdDir:
        self.schedule.tick()
        return super().child(name)

    def open(self, name: str, flags: int, mode: int = 0o666) -> int:
        self.schedule.tick()
        return super().open(name, flags, mode)

    def scandir(self) -> Any:
        self.schedule.tick()
        return super().scandir()

    def mkdir(self, name: str) -> None:
        self.schedule.tick()
        super().mkdir(name)

    def unlink(self, name: str) -> None:
        self.schedule.tick()
        super().unlink(name)

    def rmdir(self, name: str) -> None:
        self.schedule.tick()
        super().rmdir(name)

    def replace(self, name: str, dst: Any, dst_name: str) -> None:
        self.schedule.tick()
        super().replace(name, dst, dst_name)

    def link(self, name: str, dst: Any, dst_name: str) -> None:
        self.schedule.tick()
        super().link(name, dst, dst_name)

    def readlink(self, name: str) -> str:
        self.schedule.tick()
        return super().readlink(name)


# --- the operations ---------------------------------------------------------------------------------

LIMITS = writing.Limits(max_write_bytes=1 << 20, max_diff_chars=10_000, max_delete_entries=1000)
Operation = Callable[[RootSet], Any]


def _read(path: str) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path)
        return reading.read_file(box, target, reading.ReadRequest(), cap=1 << 20, image_cap=1 << 20)

    return run


def _list(path: str) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path)
        return reading.list_directory(box, target, pattern=None, limit=100)

    return run


def _tree(path: str) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path)
        return reading.tree(box, target, depth=4, exclude=[], gitignore=True, limit=100, budget_s=60)

    return run


def _info(path: str) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path, follow=False)
        return reading.info(box, target)

    return run


def _write(path: str, *, parents: bool = False, create_only: bool = False) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path, follow=False)
        return writing.write_file(
            roots,
            box,
            target,
            content="new f\n",
            encoding="utf-8",
            create_only=create_only,
            parents=parents,
            dry_run=False,
            limits=LIMITS,
        )

    return run


def _edit(path: str) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path, follow=False)
        edit = EditSpec(old="f", new="g")
        return writing.edit_file(roots, box, target, edits=[edit], dry_run=False, limits=LIMITS)

    return run


def _mkdir(path: str, *, parents: bool = False) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path, follow=False)
        return writing.make_directory(roots, box, target, parents=parents, dry_run=False)

    return run


def _move(path: str, destination: str, *, overwrite: bool = False) -> Operation:
    def run(roots: RootSet) -> Any:
        source = roots.locate("root", path, follow=False)
        target = roots.locate("root", destination, field="destination", follow=False)
        return writing.move(roots, source, target, overwrite=overwrite, dry_run=False)

    return run


def _delete(path: str, *, recursive: bool = True) -> Operation:
    def run(roots: RootSet) -> Any:
        box, target = roots.locate("root", path, follow=False)
        return writing.delete(roots, box, target, recursive=recursive, dry_run=False, limits=LIMITS)

    return run


OPERATIONS: dict[str, Operation] = {
    "read x": _read("x"),
    "read x/f.txt": _read("x/f.txt"),
    "list x": _list("x"),
    "tree x": _tree("x"),
    "tree .": _tree("."),
    "info x": _info("x"),
    "info x/f.txt": _info("x/f.txt"),
    "write x": _write("x"),
    "write x create_only": _write("x", create_only=True),
    "write x/f.txt": _write("x/f.txt"),
    "write x/new/g.txt parents": _write("x/new/g.txt", parents=True),
    "edit x": _edit("x"),
    "edit x/f.txt": _edit("x/f.txt"),
    "mkdir x": _mkdir("x"),
    "mkdir x parents": _mkdir("x", parents=True),
    "mkdir x/a/b parents": _mkdir("x/a/b", parents=True),
    "move x to y": _move("x", "y"),
    "move x/f.txt to y.txt": _move("x/f.txt", "y.txt"),
    "move inner.txt over x": _move("inner.txt", "x", overwrite=True),
    "move realdir to x/sub": _move("realdir", "x/sub"),
    "delete x": _delete("x"),
    "delete x not recursive": _delete("x", recursive=False),
    "delete x/f.txt": _delete("x/f.txt"),
}


NO_CLOBBER: dict[str, set[Outcome]] = {"write x create_only": {("CONFLICT", False)}}
"""create_only's own answer when anything appears at the name before it is placed (the
placement is a ``link()`` that fails if the name exists): "already exists", whatever kind it is."""


def outcome_of(operation: Operation, roots: RootSet) -> Outcome:
    """``OK`` or the error's code and retryability; anything but a WorkbenchError (what the tool
    boundary turns into INTERNAL_ERROR) fails the test."""
    try:
        operation(roots)
    except WorkbenchError as exc:
        return str(exc.code), exc.retryable
    return OK


@dataclass
class Bench:
    world: World
    roots: RootSet
    outside_before: dict[str, Any] = field(default_factory=dict)

    def run(self, operation: Operation, state: str, *, flip_to: str | None = None, flip_at: int = -1) -> Outcome:
        put_state(self.world, state)
        flip = (lambda: put_state(self.world, flip_to)) if flip_to is not None else (lambda: None)
        Flipping.schedule = Schedule(flip_at=flip_at, flip=flip)
        try:
            return outcome_of(operation, self.roots)
        finally:
            assert fingerprint(self.world) == self.outside_before, "something outside the root changed"

    @property
    def calls(self) -> int:
        return Flipping.schedule.calls


@pytest.fixture
def bench(world: World) -> Bench:
    roots = RootSet(FilesSettings(roots={"root": RootSettings(path=world.root)}))
    roots.get("root").dir_class = Flipping
    put_state(world, "missing")
    return Bench(world, roots, fingerprint(world))


class TestAPathChangingKindDuringAnOperation:
    @pytest.mark.parametrize("name", list(OPERATIONS))
    def test_every_interleaving_answers_a_steady_outcome_or_changed(self, bench: Bench, name: str) -> None:
        operation = OPERATIONS[name]
        steady = {state: bench.run(operation, state) for state in STATES}
        surprises = []
        for before, after in itertools.permutations(STATES, 2):
            bench.run(operation, before)
            for k in range(bench.calls + 1):
                got = bench.run(operation, before, flip_to=after, flip_at=k)
                if got not in {steady[before], steady[after], CHANGED} | NO_CLOBBER.get(name, set()):
                    surprises.append((before, after, k, got, steady[before], steady[after]))
        assert surprises == []

    def test_the_seam_reaches_every_call_including_the_first_after_resolving(self, bench: Bench) -> None:
        """k = 0 lands between resolve and the first open: a file resolved as a file and
        replaced by a link to outside is not read through (it reads as changed)."""
        assert bench.run(_read("x"), "file", flip_to="link_out", flip_at=0) == CHANGED
        assert bench.run(_read("x/f.txt"), "dir", flip_to="dirlink_out", flip_at=0) == CHANGED
        assert bench.run(_delete("x"), "dir", flip_to="dirlink_out", flip_at=3) == CHANGED


class TestTheOsErrorMapping:
    @pytest.mark.parametrize("code", sorted(CONTRADICTIONS, key=lambda c: -1 if c is None else c))
    def test_an_error_contradicting_what_was_just_checked_is_changed_and_retryable(self, code: int | None) -> None:
        exc = OSError("raced") if code is None else OSError(code, os.strerror(code))
        error = fs_error(exc, "x", root="root", checked=True)
        assert isinstance(error, PathChanged) and error.retryable
        assert error.details == {"path": "x", "root": "root", "reason": "changed"}
        assert "retry" in error.message and error.recovery_steps

    @pytest.mark.parametrize("code", [errno.ENXIO, errno.ENODEV, errno.EBUSY, errno.ETXTBSY, errno.ELOOP])
    def test_other_kinds_of_entries_are_clear_errors_even_unchecked(self, code: int) -> None:
        error = fs_error(OSError(code, os.strerror(code)), "x", root="root")
        assert error.code != "INTERNAL_ERROR"


# --- through the client, with a thread flipping the path ------------------------------------------

CLIENT_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("files_read", {"operation": "read", "path": "x"}),
    ("files_read", {"operation": "read", "path": "x/f.txt"}),
    ("files_read", {"operation": "list", "path": "x"}),
    ("files_read", {"operation": "tree", "path": "x"}),
    ("files_read", {"operation": "info", "path": "x"}),
    ("files_write", {"operation": "write", "path": "x", "content": "w f\n"}),
    ("files_write", {"operation": "write", "path": "x/f.txt", "content": "w f\n"}),
    ("files_write", {"operation": "mkdir", "path": "x/sub", "parents": True}),
    ("files_write", {"operation": "move", "path": "x", "destination": "y", "overwrite": True}),
    ("files_write", {"operation": "delete", "path": "x", "recursive": True}),
]
FLIPS = [("file", "link_out"), ("dir", "dirlink_out"), ("file", "dir"), ("dir", "link_in")]


def _code(outcome: Any) -> Outcome:
    return (outcome.code, outcome.data.get("retryable", False)) if outcome.is_error else OK


class TestFlippingDuringToolCalls:
    @pytest.mark.anyio
    @pytest.mark.parametrize(("one", "other"), FLIPS, ids=["-".join(f) for f in FLIPS])
    async def test_calls_answer_a_steady_outcome_or_changed(
        self, guarded: Session, world: World, one: str, other: str
    ) -> None:
        steady: dict[str, set[Outcome]] = {}
        # The flipper passes through "missing"; the calls themselves make a file or a directory.
        for state in {one, other, "missing", "file", "dir"}:
            for tool, arguments in CLIENT_CALLS:
                put_state(world, state)
                key = repr(arguments)
                steady.setdefault(key, set()).add(_code(await guarded.call(tool, **arguments)))
        put_state(world, one)
        stop = threading.Event()

        def flipper() -> None:
            for flips in range(200_000):  # bounded: stops when the calls are done, or here
                if stop.is_set():
                    return
                try:
                    put_state(world, other if flips % 2 else one)
                except OSError:
                    continue  # a call of the test moved something meanwhile

        thread = threading.Thread(target=flipper)
        thread.start()
        surprises = []
        try:
            for _round in range(5):
                for tool, arguments in CLIENT_CALLS:
                    outcome = await guarded.call(tool, **arguments)
                    if _code(outcome) not in steady[repr(arguments)] | {CHANGED}:
                        surprises.append((arguments, outcome.text))
        finally:
            stop.set()
            thread.join()
        assert surprises == []


class TestResolvingALinkThatVanishes:
    """Resolving a path reads each link it meets after seeing it with lstat; a link removed in
    between (a path flipping from a link to a directory) is a change, not an internal error."""

    @pytest.mark.parametrize("error", [FileNotFoundError, NotADirectoryError, OSError])
    def test_a_link_gone_between_lstat_and_readlink_is_changed(
        self, world: World, monkeypatch: pytest.MonkeyPatch, error: type[OSError]
    ) -> None:
        put_state(world, "dirlink_out")
        sandbox = RootSet(FilesSettings(roots={"root": RootSettings(path=world.root)})).get("root")
        real_readlink = os.readlink

        def vanished(path: Any, *args: Any, **kwargs: Any) -> str:
            if os.fspath(path).endswith(os.sep + "x"):
                raise error(errno.ENOENT, "No such file or directory", os.fspath(path))
            return real_readlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "readlink", vanished)  # the OS's answer in the race, made certain
        with pytest.raises(PathChanged) as raised:
            sandbox.resolve(("x", "inner"))
        assert raised.value.retryable and raised.value.details["reason"] == "changed"
