"""The install scripts. ``install.sh`` passes shellcheck and, run in a fresh HOME without uv,
installs uv (from an installer served on loopback in place of astral.sh), installs the tool from
the wheel this suite built (with compiled bytecode), and adds it to a client, whose entry then
completes a handshake. ``install.ps1`` cannot run here (no PowerShell): it is held to the same
contract as the shell script by reading it."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.tooling import ROOT, Dist, Pins, fresh_env, missing

pytestmark = pytest.mark.timeout(900)
SCRIPT = ROOT / "install.sh"
POWERSHELL = ROOT / "install.ps1"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def test_shellcheck_finds_nothing() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        missing("shellcheck is not installed (Debian: apt-get install shellcheck)")
    done = subprocess.run(
        [shellcheck, "--shell=sh", str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def uv_installer(uv: str) -> Iterator[str]:
    """A loopback stand-in for https://astral.sh/uv/install.sh: it puts uv where the real installer
    does ($HOME/.local/bin), as links to the uv running this suite."""
    uvx = Path(uv).with_name("uvx")
    body = "\n".join(
        [
            "#!/bin/sh",
            "set -eu",
            'mkdir -p "$HOME/.local/bin"',
            f'ln -sf "{uv}" "$HOME/.local/bin/uv"',
            *([f'ln -sf "{uvx}" "$HOME/.local/bin/uvx"'] if uvx.is_file() else []),
            'echo "everything is installed into $HOME/.local/bin"',
        ]
    ).encode()

    class Installer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/x-sh")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # stderr belongs to pytest
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Installer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/uv/install.sh"
    finally:
        server.shutdown()
        server.server_close()


def test_install_sh_in_a_fresh_home_installs_uv_the_tool_and_a_client_entry(
    dist: Dist, pins: Pins, uv_cache: str, uv_installer: str, tmp_path: Path
) -> None:
    if not (shutil.which("curl", path=SYSTEM_PATH) or shutil.which("wget", path=SYSTEM_PATH)):
        missing("install.sh downloads uv's installer with curl or wget, and neither is installed")
    if shutil.which("uv", path=SYSTEM_PATH):
        pytest.fail(f"uv is installed system-wide ({shutil.which('uv', path=SYSTEM_PATH)}): no HOME is without it here")
    home = tmp_path / "home"
    home.mkdir()
    env = fresh_env(
        home,
        uv_cache,
        path=SYSTEM_PATH,
        MCP_WORKBENCH_PACKAGE=str(dist.wheel),
        MCP_WORKBENCH_UV_INSTALLER_URL=uv_installer,
        WORKBENCH_DATA_DIR=str(tmp_path / "data"),
        **pins.env(),
    )
    done = subprocess.run(
        ["sh", str(SCRIPT), "cursor", "--verify-timeout", "120"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "uv is not installed; installing it from http://127.0.0.1:" in output
    assert (home / ".local" / "bin" / "uv").is_symlink()
    tool = home / ".local" / "share" / "uv" / "tools" / "mcp-workbench"
    assert (home / ".local" / "bin" / "mcp-workbench").exists()
    assert "is not on your PATH" in output and "tool update-shell" in output
    # compiled bytecode: the server's own modules and its dependencies'
    assert list(tool.glob("lib/python3*/site-packages/mcp_workbench/__pycache__/server.*.pyc"))
    assert list(tool.glob("lib/python3*/site-packages/pydantic/__pycache__/main.*.pyc"))
    entry = json.loads((home / ".cursor" / "mcp.json").read_text(encoding="utf-8"))["mcpServers"]["workbench"]
    assert entry["command"] == str(tool / "bin" / "python") and entry["args"] == ["-m", "mcp_workbench", "serve"]
    assert re.search(r"check \(handshake era\): connected, protocol 2025-11-25, \d+ tools", done.stdout), output
    assert re.search(r"check \(2026-07-28\): connected, protocol 2026-07-28, \d+ tools", done.stdout), output


def test_a_package_uv_cannot_install_stops_the_script_with_the_reason(uv: str, uv_cache: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = fresh_env(
        home, uv_cache, path=f"{Path(uv).parent}:{SYSTEM_PATH}", MCP_WORKBENCH_PACKAGE=str(tmp_path / "nope.whl")
    )
    done = subprocess.run(
        ["sh", str(SCRIPT), "cursor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"uv could not install {tmp_path / 'nope.whl'}" in done.stderr and "installing it from" not in done.stderr
    assert not (home / ".cursor").exists()


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"\b(MCP_WORKBENCH_[A-Z_]+)", text))


def test_the_powershell_script_keeps_the_shell_scripts_contract() -> None:
    shell, power = SCRIPT.read_text(encoding="utf-8"), POWERSHELL.read_text(encoding="utf-8")
    assert (
        _env_names(power)
        == _env_names(shell)
        == {
            "MCP_WORKBENCH_PACKAGE",
            "MCP_WORKBENCH_CLIENT",
            "MCP_WORKBENCH_UV_INSTALLER_URL",
        }
    )
    assert "tool install --force --compile-bytecode" in shell and "tool install --force --compile-bytecode" in power
    assert "https://astral.sh/uv/install.sh" in shell and "https://astral.sh/uv/install.ps1" in power
    for text in (shell, power):
        assert "tool dir --bin" in text and "install --list" in text and "tool update-shell" in text
    assert "$ErrorActionPreference = 'Stop'" in power and "$LASTEXITCODE" in power
