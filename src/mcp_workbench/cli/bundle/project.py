"""The source tree a bundle is made from, and the project's metadata.

A bundle of the ``uv`` type is the project itself (its source, pyproject.toml and uv.lock), so
it is built from a source tree: a checkout or an unpacked sdist. An installed wheel carries
neither the lock nor the project file, and ``bundle`` says so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_workbench

PROJECT_FILES = ("pyproject.toml", "uv.lock", "README.md")
PACKAGE = "mcp_workbench"


class NotASourceTree(Exception):
    """The running package does not sit in a source tree with a lock file."""


@dataclass(frozen=True)
class Project:
    root: Path
    metadata: dict[str, Any]  # pyproject's [project] table

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def description(self) -> str:
        return str(self.metadata.get("description", ""))

    def url(self, label: str) -> str | None:
        urls = self.metadata.get("urls") or {}
        return urls.get(label)

    @property
    def package_dir(self) -> Path:
        return self.root / "src" / PACKAGE

    def files(self) -> list[tuple[str, Path]]:
        """(name in the bundle, file) of every file the bundle carries from the tree: the project
        files and the package (without bytecode and caches)."""
        found = [(name, self.root / name) for name in PROJECT_FILES]
        for path in sorted(self.package_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                found.append((path.relative_to(self.root).as_posix(), path))
        return found


def find(start: Path | None = None) -> Project:
    """The source tree of the running package (``src/mcp_workbench`` under a project root)."""
    package = (start or Path(mcp_workbench.__file__)).resolve().parent
    root = package.parent.parent
    missing = [name for name in PROJECT_FILES if not (root / name).is_file()]
    if package.parent.name != "src" or missing:
        raise NotASourceTree(
            f"bundle builds from a source tree (a checkout or an unpacked sdist): {root} has no "
            f"{', '.join(missing) or 'src/ layout'}; from a checkout run `uv run mcp-workbench bundle`"
        )
    with (root / "pyproject.toml").open("rb") as handle:
        metadata = tomllib.load(handle)["project"]
    return Project(root, metadata)
