"""File tests run against real directories under tmp_path, through a real client.

Every test gets a *world*: ``world/root`` is the configured root; beside it lie things the
tools must never touch: ``world/rootX`` (named like the root, for prefix confusion) and
``world/outside`` (a canary directory). The ``guarded`` fixture fingerprints everything in the
world except the root (names, types, bytes, modification times, modes, link targets) and
asserts after the test that nothing outside the root was changed, created or removed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.settings import Settings
from tests.conftest import Session

SECRET = b"TOP SECRET canary: outside the root\n"


@dataclass
class World:
    base: Path
    root: Path
    sibling: Path
    outside: Path

    @property
    def secret(self) -> Path:
        return self.outside / "secret.txt"


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


def fingerprint(world: World) -> dict[str, Any]:
    """Everything in the world except the root, as it is on disk (links are not followed)."""
    found: dict[str, Any] = {}
    for directory, dirs, files in os.walk(world.base, followlinks=False):
        if Path(directory) == world.root:
            dirs.clear()
            continue
        for name in sorted(dirs + files):
            path = Path(directory) / name
            if path == world.root:
                continue
            info = path.lstat()
            if path.is_symlink():
                found[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                found[str(path)] = ("file", path.read_bytes(), info.st_mtime_ns, info.st_mode)
            else:
                found[str(path)] = ("dir", info.st_mode)
    return found


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


def temp_files(directory: Path) -> list[str]:
    """Leftover temporary files of atomic writes (there must never be any)."""
    return sorted(p.name for p in directory.rglob(".mcp-workbench-*"))
