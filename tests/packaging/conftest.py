"""What the packaging tests share, built once per test session: the wheel and sdist (``uv build``),
the Claude Desktop bundle, the lock file as uv overrides, and a fresh HOME for each install.

Installs in a fresh HOME use the machine's uv cache (``UV_CACHE_DIR``), so the locked wheels come
from it; the lock's versions are constraints (and the project's overrides stay overrides), so what
gets installed is what the suite tested. ``uv tool install`` and ``uvx`` still resolve, which asks
the package index about each name (an index is reachable where the suite runs: ``uv sync`` needs
it too); the bundle starts fully offline, since ``uv run --frozen`` installs from the lock
without resolving.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.tooling import ROOT, Dist, Pins, missing, run


@pytest.fixture(scope="session")
def uv() -> str:
    """The uv running this suite (``uv run`` sets UV), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found or not Path(found).is_file():
        missing("uv is not installed (https://docs.astral.sh/uv/); python3 run.py test brings its own")
    return str(Path(found).resolve())


@pytest.fixture(scope="session")
def uv_cache(uv: str) -> str:
    return run([uv, "cache", "dir"]).stdout.strip()


@pytest.fixture(scope="session")
def dist(uv: str, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    run([uv, "build", "--out-dir", str(out), str(ROOT)], cwd=ROOT)
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return Dist(wheel, sdist)


@pytest.fixture(scope="session")
def pins(uv: str, tmp_path_factory: pytest.TempPathFactory) -> Pins:
    folder = tmp_path_factory.mktemp("pins")
    constraints, overrides = folder / "constraints.txt", folder / "overrides.txt"
    run([uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-o", str(constraints)], cwd=ROOT)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    overrides.write_text("\n".join(project["tool"]["uv"].get("override-dependencies", [])) + "\n", encoding="utf-8")
    return Pins(constraints, overrides)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mcp_workbench.cli.bundle.command import build

    return build(tmp_path_factory.mktemp("bundle") / "mcp-workbench.mcpb")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home
