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
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Settings of the machine's network that a fresh HOME still needs (a proxy, a CA bundle, a mirror).
PASSED_THROUGH = (
    "SSL_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_NATIVE_TLS",
    "UV_INSECURE_HOST",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    kw.setdefault("timeout", 600)
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


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


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dist(uv: str, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    run([uv, "build", "--out-dir", str(out), str(ROOT)], cwd=ROOT)
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return Dist(wheel, sdist)


@dataclass(frozen=True)
class Pins:
    """The lock as uv constraints, and pyproject's ``override-dependencies`` as uv overrides (a lock
    export cannot be the overrides: an override drops the extras other packages ask for)."""

    constraints: Path
    overrides: Path

    def args(self) -> tuple[str, ...]:
        return ("--constraints", str(self.constraints), "--overrides", str(self.overrides))

    def env(self) -> dict[str, str]:
        return {"UV_CONSTRAINT": str(self.constraints), "UV_OVERRIDE": str(self.overrides)}


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


def fresh_env(home: Path, uv_cache: str, *, path: str = "/usr/local/bin:/usr/bin:/bin", **extra: str) -> dict[str, str]:
    """A new user's environment: its own HOME and XDG directories, the machine's uv cache and network
    settings, this suite's Python for uv to build environments from, nothing else."""
    env = {k: v for k, v in os.environ.items() if k.upper().startswith(PASSED_THROUGH)}
    env.update(
        {
            "HOME": str(home),
            "USERPROFILE": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "PATH": path,
            "LANG": "C.UTF-8",
            "UV_CACHE_DIR": uv_cache,
            "UV_PYTHON": sys.executable,
            "UV_NO_PROGRESS": "1",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home
