"""File tests run against real directories under tmp_path, through a real client.

Every test gets a *world*: ``world/root`` is the configured root; beside it lie things the
tools must never touch: ``world/rootX`` (named like the root, for prefix confusion) and
``world/outside`` (a canary directory). The ``guarded`` fixture fingerprints everything in the
world except the root (names, types, bytes, modification times, modes, link targets) and
asserts after the test that nothing outside the root was changed, created or removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.settings import Settings
from tests.support.files_world import SECRET, World, fingerprint
from tests.support.session import Session


@pytest.fixture
def world(tmp_path: Path) -> World:
    base = tmp_path / "world"
    root, sibling, outside = base / "root", base / "rootX", base / "outside"
    for directory in (root, sibling, outside, outside / "dir"):
        directory.mkdir(parents=True)
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "dir" / "inner.txt").write_bytes(SECRET)
    (sibling / "secret.txt").write_bytes(SECRET)
    return World(base, root, sibling, outside)


@pytest.fixture
def files_settings(make_settings: Callable[..., Settings], world: World) -> Callable[..., Settings]:
    """Settings with ``world/root`` as root 'root' (more roots and [files] keys as arguments)."""

    def make(roots: dict[str, Any] | None = None, **files: Any) -> Settings:
        configured = roots if roots is not None else {"root": {"path": str(world.root)}}
        return make_settings(files={"roots": configured, **files})

    return make


@pytest.fixture
async def fs(connect: Callable[[Settings], Any], files_settings: Callable[..., Settings]) -> AsyncIterator[Session]:
    async with connect(files_settings()) as session:
        yield session


@pytest.fixture
async def guarded(fs: Session, world: World) -> AsyncIterator[Session]:
    """A session whose test must leave everything outside the root exactly as it was."""
    before = fingerprint(world)
    yield fs
    assert fingerprint(world) == before, "something outside the root was changed"
