"""The interpreter, its bytecode, and uv."""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import anyio

from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, warn

MIN_PYTHON = (3, 11)
UV_DOCS = "https://docs.astral.sh/uv/getting-started/installation/"
# Modules whose bytecode decides the cold start (the heaviest imports of a server start).
_HEAVY = ("fastmcp/server/server.py", "pydantic/main.py", "mcp/__init__.py", "sqlalchemy/__init__.py")


async def python(ctx: Context) -> list[Finding]:
    version = platform.python_version()
    where = sys.executable
    if sys.version_info < MIN_PYTHON:
        need = ".".join(map(str, MIN_PYTHON))
        return [fail("python", f"Python {version} at {where}", f"install Python {need} or newer and reinstall")]
    return [ok("python", f"Python {version} at {where}", details={"version": version, "executable": where})]


def _missing_bytecode() -> list[str]:
    lib = sysconfig.get_paths()["purelib"]
    ours = Path(__file__).resolve().parents[2]
    files = [Path(lib, *name.split("/")) for name in _HEAVY] + [ours / "server.py"]
    return [str(f) for f in files if f.exists() and not Path(importlib.util.cache_from_source(str(f))).exists()]


async def bytecode(ctx: Context) -> list[Finding]:
    """A client starts the server cold, often within a short window: without compiled bytecode
    every start compiles its imports again, about twice as slowly."""
    missing = _missing_bytecode()
    if not missing:
        return [ok("bytecode", "the installation is compiled to bytecode")]
    command = f"{ctx.launcher.command} -m compileall -q {sysconfig.get_paths()['purelib']}"
    return [
        warn(
            "bytecode",
            f"{len(missing)} start-up module(s) have no compiled bytecode: each start takes about twice as long",
            f"run `mcp-workbench install CLIENT` again (it compiles), or `{command}`"
            + (" (PYTHONDONTWRITEBYTECODE is set here)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""),
            details={"missing": missing},
        )
    ]


def find_uv(environ: dict[str, str] | None = None) -> str | None:
    """uv on PATH, or the one that started this process (``uv run`` sets ``UV``)."""
    environ = dict(os.environ) if environ is None else environ
    found = shutil.which("uv", path=environ.get("PATH"))
    if found:
        return found
    started_by = environ.get("UV", "")
    return started_by if started_by and Path(started_by).is_file() else None


async def uv(ctx: Context) -> list[Finding]:
    """uv runs the Claude Desktop bundle and ``uvx`` entries; a plain interpreter entry does not need it."""
    path = find_uv(dict(ctx.environ))
    uses_uvx = Path(ctx.launcher.command).name.startswith("uvx")
    if path is None:
        message = "uv is not installed (or not on PATH)"
        fix = f"install uv: {UV_DOCS}"
        if uses_uvx:
            return [fail("uv", message + "; this installation runs through uvx", fix)]
        return [warn("uv", message + "; the Claude Desktop bundle and uvx entries need it", fix)]
    try:
        with anyio.fail_after(30):
            out = (await anyio.run_process([path, "--version"])).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError, TimeoutError) as exc:
        return [fail("uv", f"{path} does not run: {exc}", f"reinstall uv: {UV_DOCS}")]
    match = re.search(r"\d+\.\d+\.\d+\S*", out)
    version = match[0] if match else out.strip()
    return [ok("uv", f"uv {version} at {path}", details={"version": version, "path": path})]
