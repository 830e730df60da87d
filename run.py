"""Run mcp-workbench from this checkout with nothing but a Python 3.11+ interpreter.

    python3 run.py serve [options]     the server (stdio by default), like ``mcp-workbench serve``
    python3 run.py test [pytest args]  the whole test suite
    python3 run.py keys create ...     any other ``mcp-workbench`` command

The project is run by uv, which installs the locked dependencies into ``.venv``. When uv is
not on PATH, this script puts a private copy of it in ``.bootstrap/`` next to itself: in a
virtual environment made with the standard ``venv`` module, whose pip may install packages
even where the system Python is "externally managed" (PEP 668); or, where ``venv`` has no pip
(Debian and Ubuntu without ``python3-venv``), from uv's wheel on PyPI, checked against the
sha256 that PyPI publishes. Nothing is installed into the system Python or the user's site.

Only the standard library is used, and nothing but the server writes to stdout: on stdio,
stdout is the protocol stream, so everything this script says goes to stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BOOTSTRAP = ROOT / ".bootstrap"
PYPI_UV = "https://pypi.org/pypi/uv/json"
MIN_PYTHON = (3, 11)


def say(message: str) -> None:
    print(f"run.py: {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        say(
            f"mcp-workbench needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; this is {platform.python_version()}"
        )
        return 2
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    uv = find_uv() or install_uv()
    env = dict(os.environ)
    # Use this interpreter rather than letting uv look for (or download) another one, and
    # byte-compile on install: without .pyc files every server start takes about twice as long.
    env.setdefault("UV_PYTHON", sys.executable)
    env.setdefault("UV_COMPILE_BYTECODE", "1")
    command, *rest = argv
    program = ["pytest", *rest] if command == "test" else ["mcp-workbench", command, *rest]
    args = [str(uv), "run", "--project", str(ROOT), *program]
    if command == "test":
        os.chdir(ROOT)  # pytest finds its configuration and test paths from here
    if os.name == "nt":  # no exec on Windows: wait for the child and pass its exit status on
        return subprocess.call(args, env=env)
    os.execve(args[0], args, env)
    return 0  # not reached


def find_uv() -> Path | None:
    for candidate in (shutil.which("uv"), _bootstrap_uv()):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _bootstrap_uv() -> str:
    return str(BOOTSTRAP / ("Scripts/uv.exe" if os.name == "nt" else "bin/uv"))


def install_uv() -> Path:
    """A private uv in .bootstrap/: through a venv's pip, else from the wheel on PyPI."""
    say("uv is not installed; putting a private copy in .bootstrap/ (once)")
    try:
        _install_with_venv_pip()
    except (OSError, subprocess.CalledProcessError) as exc:
        say(f"venv with pip is not available here ({exc}); fetching uv's wheel from PyPI instead")
        shutil.rmtree(BOOTSTRAP, ignore_errors=True)
        _install_from_wheel()
    uv = Path(_bootstrap_uv())
    if not uv.is_file():
        raise SystemExit(f"run.py: could not install uv into {BOOTSTRAP}; install uv yourself and run again")
    return uv


def _install_with_venv_pip() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(BOOTSTRAP)], check=True, stdout=sys.stderr)
    python = BOOTSTRAP / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    quiet = ["--quiet", "--disable-pip-version-check", "--no-input"]
    subprocess.run([str(python), "-m", "pip", "install", *quiet, "uv"], check=True, stdout=sys.stderr)


def _install_from_wheel() -> None:
    with urllib.request.urlopen(PYPI_UV, timeout=60) as response:
        release = json.load(response)
        base = response.geturl()
    wheel = _pick_wheel(release["urls"])
    url = urllib.parse.urljoin(base, wheel["url"])  # mirrors may answer with relative links
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(url, timeout=300) as response, path.open("wb") as out:
            shutil.copyfileobj(response, out)
        if hashlib.sha256(path.read_bytes()).hexdigest() != wheel["digests"]["sha256"]:
            raise SystemExit(f"run.py: {wheel['filename']} does not match the sha256 PyPI publishes; not using it")
        name = "uv.exe" if os.name == "nt" else "uv"
        target = Path(_bootstrap_uv())
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path) as archive:
            member = next(m for m in archive.namelist() if m.endswith(f".data/scripts/{name}"))
            target.write_bytes(archive.read(member))
        target.chmod(0o755)


def _pick_wheel(files: list[dict]) -> dict:
    """uv's wheel for this operating system and processor."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if sys.platform == "darwin":
        tags = ["macosx"]
        arch = "arm64" if arch == "aarch64" else arch
    elif sys.platform.startswith("linux"):
        tags = ["manylinux" if platform.libc_ver()[0] == "glibc" else "musllinux"]
    elif os.name == "nt":
        tags = ["win"]
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(arch, arch)
    else:
        raise SystemExit(f"run.py: no uv wheel for {sys.platform}; install uv yourself and run again")
    for file in files:
        name = file["filename"]
        if name.endswith(".whl") and any(tag in name for tag in tags) and arch in name:
            return file
    raise SystemExit(f"run.py: PyPI has no uv wheel for {sys.platform}/{arch}; install uv yourself")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
