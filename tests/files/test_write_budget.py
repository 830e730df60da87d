"""A files_write whose time budget runs out answers its real result or TIMEOUT, never TIMEOUT and keeps it.

Every write operation (multi-megabyte writes and edits, mkdir, move, delete) with the budget
landing before the commit point — the temporary file is written, the rename is not done yet —
(TIMEOUT; the root is read afterwards and is as it was, no temporary file left), during it and
after it (the real result, late; the root is exactly as after the same operation on a copy).
The write runs in a worker thread that does not stop when the call is cancelled: the commit
point is what refuses it. The budget is landed by the server's commit seam
(tests/support/commits.py), not by timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client

from mcp_workbench.platform.timeouts import CommitHook
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.support.commits import AFTER, BEFORE, DURING, STAGES, BudgetAt
from tests.support.files_world import World, fingerprint
from tests.support.session import Session

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
BIG = "0123456789abcdef" * (3 * MB // 16)  # 3 MB of text

OPERATIONS: dict[str, dict[str, Any]] = {
    "write a new file": {"operation": "write", "path": "new/big.txt", "content": BIG, "parents": True},
    "replace a file": {"operation": "write", "path": "notes.txt", "content": BIG},
    "create only": {"operation": "write", "path": "fresh.txt", "content": BIG, "create_only": True},
    "edit": {"operation": "edit", "path": "notes.txt", "edits": [{"old": "omega", "new": "OMEGA"}]},
    "mkdir": {"operation": "mkdir", "path": "made/deeper", "parents": True},
    "move": {"operation": "move", "path": "notes.txt", "destination": "dir/moved.txt"},
    "move over": {"operation": "move", "path": "notes.txt", "destination": "dir/a.txt", "overwrite": True},
    "delete a file": {"operation": "delete", "path": "notes.txt"},
    "delete a tree": {"operation": "delete", "path": "dir", "recursive": True},
}


def populate(root: Path) -> None:
    (root / "notes.txt").write_text("alpha\n" + "x" * (2 * MB) + "\nomega\n")
    (root / "dir" / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        (root / "dir" / name).write_text(f"{name}\n")


def contents(root: Path) -> dict[str, Any]:
    """Every entry under ``root``: directories, and files by digest (temporary files included)."""
    found: dict[str, Any] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(Path(directory, name), root)] = "dir"
        for name in files:
            path = Path(directory, name)
            found[os.path.relpath(path, root)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@asynccontextmanager
async def server(settings: Settings, hook: CommitHook | None, era: str) -> AsyncIterator[Session]:
    async with Client(build_server(settings, commit_hook=hook), mode=era) as client:
        yield Session(client)


@pytest.fixture
def settings(files_settings: Callable[..., Settings], world: World) -> Settings:
    reference = world.base / "reference"
    for root in (world.root, reference):
        root.mkdir(exist_ok=True)
        populate(root)
    return files_settings(roots={"root": {"path": str(world.root)}, "reference": {"path": str(reference)}})


async def expected_after(session: Session, arguments: dict[str, Any], world: World) -> dict[str, Any]:
    """The reference root after the same operation, with nothing in the way."""
    await session.ok("files_write", **arguments, root="reference")
    return contents(world.base / "reference")


async def settled(session: Session) -> None:
    """Writes are serialised: once this dry run is answered, the abandoned write has unwound."""
    await session.ok("files_write", root="root", operation="mkdir", path="probe", dry_run=True)


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("stage", STAGES)
async def test_a_budget_landing_at_each_stage_of_a_write_answers_timeout_and_keeps_nothing_or_answers_the_result(
    settings: Settings, world: World, operation: str, stage: str
) -> None:
    arguments = OPERATIONS[operation]
    before = fingerprint(world)  # everything outside the roots
    untouched = contents(world.root)
    budget = BudgetAt(stage)  # type: ignore[arg-type]
    async with server(settings, budget, "legacy") as session:
        outcome = await session.call("files_write", root="root", **arguments)
        assert budget.held.is_set(), f"{operation} never reached its commit point: {outcome.text}"
        with anyio.fail_after(30):
            await budget.decided.wait()
        await settled(session)
        if stage == BEFORE:
            assert outcome.code == "TIMEOUT", outcome.text
            assert budget.decision == "abandoned"
            assert contents(world.root) == untouched, "a write that answered TIMEOUT was kept"
        else:
            assert not outcome.is_error, f"a write past its commit point answered {outcome.text}"
            assert outcome.data["dry_run"] is False and budget.decision == "late"
            assert contents(world.root) == await expected_after(session, arguments, world)
    assert {k: v for k, v in fingerprint(world).items() if "/reference" not in k} == {
        k: v for k, v in before.items() if "/reference" not in k
    }


async def test_a_write_after_a_timeout_waits_until_the_abandoned_one_has_undone_what_it_began(
    settings: Settings, world: World
) -> None:
    """The TIMEOUT is answered at once, while the write's thread is still held at its commit point;
    once let go it is refused there and removes the directory it made. A write that comes in
    between must wait for that, not run beside it."""
    release = asyncio.Event()
    budget = BudgetAt(BEFORE, until=release)
    untouched = contents(world.root)
    async with server(settings, budget, "legacy") as session:
        await session.error("files_write", "TIMEOUT", root="root", **OPERATIONS["write a new file"])
        with anyio.fail_after(30):
            await budget.decided.wait()
        done: list[dict[str, Any]] = []

        async def next_write() -> None:
            done.append(await session.ok("files_write", root="root", operation="mkdir", path="probe"))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(next_write)
            await anyio.sleep(0.5)  # an mkdir that did not wait would be answered long before
            assert done == [], "a write ran while the abandoned one's thread was still at work"
            release.set()
    assert len(done) == 1 and contents(world.root) == {**untouched, "probe": "dir"}


@pytest.mark.parametrize("stage", [BEFORE, DURING])
async def test_both_eras_get_the_same_answer(settings: Settings, world: World, era: str, stage: str) -> None:
    arguments = OPERATIONS["replace a file"]
    untouched = contents(world.root)
    async with server(settings, BudgetAt(stage), era) as session:  # type: ignore[arg-type]
        outcome = await session.call("files_write", root="root", **arguments)
        await settled(session)
        assert (outcome.code == "TIMEOUT") is (stage == BEFORE), outcome.text
        expected = untouched if stage == BEFORE else await expected_after(session, arguments, world)
    assert contents(world.root) == expected


async def test_a_short_budget_from_the_settings_that_ends_before_the_rename_leaves_no_file(
    files_settings: Callable[..., Settings], world: World
) -> None:
    """The budget's own timer, not the seam, ends the call: on its way to its commit point (its
    temporary file written or not) or waiting there (the seam holds it until the budget decides)."""
    settings = files_settings(roots={"root": {"path": str(world.root)}})
    settings.timeouts.tools["files_write"] = 0.05
    budget = BudgetAt(BEFORE, expire=False)
    async with server(settings, budget, "legacy") as session:
        error = await session.error("files_write", "TIMEOUT", **OPERATIONS["write a new file"])
        assert error["details"] == {"tool": "files_write", "timeout_s": 0.05}
        with anyio.fail_after(30):  # wherever the timer landed, the write never passed its commit point
            await budget.decided.wait()
        await settled(session)  # only now: before its commit point the write may not hold the lock yet
    assert budget.decision == "abandoned"
    assert contents(world.root) == {}


@pytest.mark.parametrize("stage", [BEFORE, DURING, AFTER])
async def test_a_client_that_cancels_leaves_nothing_before_the_commit_point_and_a_whole_write_after_it(
    settings: Settings, world: World, era: str, stage: str
) -> None:
    """A cancelled call is never answered; what it leaves follows the same rule as a TIMEOUT."""
    arguments = OPERATIONS["replace a file"]
    untouched = contents(world.root)
    budget = BudgetAt(stage, expire=False)  # type: ignore[arg-type]
    async with server(settings, budget, era) as session:
        answered: list[Any] = []
        async with anyio.create_task_group() as tasks:
            call = anyio.CancelScope()

            async def write() -> None:
                with call:
                    answered.append(await session.client.call_tool_mcp("files_write", {"root": "root", **arguments}))

            tasks.start_soon(write)
            await budget.held.wait()
            call.cancel()
        with anyio.fail_after(30):
            await budget.decided.wait()
        await settled(session)
        assert answered == [], "a cancelled call was answered"
        expected = untouched if stage == BEFORE else await expected_after(session, arguments, world)
    assert budget.decision == ("abandoned" if stage == BEFORE else "late")
    assert contents(world.root) == expected
