"""The README's first command starts the server on a stock system Python, as a newcomer runs it.

It runs the command exactly as the README writes it, from a copy of this checkout, with the
system's ``/usr/bin/python3`` first on PATH, no uv anywhere on PATH, and a fresh HOME (so no
uv cache, no config, no data directory), then completes an MCP handshake over stdio. Debian
and Ubuntu mark that Python "externally managed" (PEP 668), which is what broke
``python3 -m pip install uv`` for newcomers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")
CLEAN_PATH = "/usr/bin:/bin"
FIRST_RUN_TIMEOUT_S = 480  # downloads uv and every dependency into empty caches


def readme_commands() -> list[str]:
    """The commands of the README's first ``sh`` block, comments dropped."""
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    assert block, "the README starts with a sh block of commands"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_starts_with_one_command_to_serve_and_one_to_test() -> None:
    serve, test = readme_commands()
    assert serve.split()[-1] == "serve"
    assert test.split()[-1] == "test"
    assert "pip install" not in serve + test, "pip into a system Python fails under PEP 668"


def _system_python_problem() -> str | None:
    if not SYSTEM_PYTHON.is_file():
        return f"{SYSTEM_PYTHON} is not installed"
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys, venv, ensurepip; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() != "True":
        return f"{SYSTEM_PYTHON} is older than 3.11 or has no venv/ensurepip: {probe.stderr.strip()[-200:]}"
    return None


def _copy_checkout(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _newcomer_environment(home: Path) -> dict[str, str]:
    """This machine's environment (proxies, CA bundles) as a new user has it: no uv, no venv, new HOME."""
    drop = ("UV_", "VIRTUAL_ENV", "PYTHON", "XDG_", "WORKBENCH_", "PYENV")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(PATH=CLEAN_PATH, HOME=str(home))
    return env


class Lines:
    """Lines from a pipe, read on a thread so a wait can time out."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: list[bytes] = []
        self._ready = threading.Condition()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            with self._ready:
                self._lines.append(line)
                self._ready.notify_all()
        with self._ready:
            self._lines.append(b"")
            self._ready.notify_all()

    def next(self, timeout: float) -> bytes:
        with self._ready:
            if not self._ready.wait_for(lambda: self._lines, timeout=timeout):
                raise TimeoutError(f"no line within {timeout} s")
            return self._lines.pop(0)


@pytest.mark.timeout(FIRST_RUN_TIMEOUT_S + 60)
def test_the_first_command_serves_from_a_system_python_without_uv(tmp_path: Path) -> None:
    problem = _system_python_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    assert shutil.which("uv", path=CLEAN_PATH) is None, (
        f"uv is installed in {CLEAN_PATH}: this check needs a machine without it"
    )
    assert shutil.which("python3", path=CLEAN_PATH) == str(SYSTEM_PYTHON)
    serve = readme_commands()[0]
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    home.mkdir()
    _copy_checkout(checkout)
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as errors:
        server = subprocess.Popen(
            ["/bin/sh", "-c", serve],
            cwd=checkout,
            env=_newcomer_environment(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    assert server.stdin is not None and server.stdout is not None
    lines = Lines(server.stdout)

    def send(message: dict[str, object]) -> None:
        assert server.stdin is not None
        server.stdin.write(json.dumps(message).encode() + b"\n")
        server.stdin.flush()

    def answer(timeout: float) -> dict[str, object]:
        line = lines.next(timeout)
        assert line, f"the server closed stdout; its stderr:\n{stderr.read_text(errors='replace')[-3000:]}"
        return json.loads(line)  # anything on stdout but JSON-RPC would fail here

    try:
        send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "newcomer", "version": "1"},
                },
            }
        )
        initialized = answer(FIRST_RUN_TIMEOUT_S)
        assert initialized["result"]["serverInfo"]["name"] == "mcp-workbench", initialized  # type: ignore[index]
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        listed = answer(60)
        assert "data_read" in [tool["name"] for tool in listed["result"]["tools"]], listed  # type: ignore[index]
        server.stdin.close()
        assert server.wait(timeout=60) == 0, stderr.read_text(errors="replace")[-3000:]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log = stderr.read_text(errors="replace")
    assert "externally-managed-environment" not in log
    assert (checkout / ".bootstrap").is_dir(), "uv was found somewhere: the check did not start without uv"
