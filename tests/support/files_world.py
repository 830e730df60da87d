"""The directory world of the file tests: ``world/root`` is the configured root; beside it lie
things the tools must never touch: ``world/rootX`` (named like the root, for prefix confusion)
and ``world/outside`` (a canary directory)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def temp_files(directory: Path) -> list[str]:
    """Leftover temporary files of atomic writes (there must never be any)."""
    return sorted(p.name for p in directory.rglob(".mcp-workbench-*"))
