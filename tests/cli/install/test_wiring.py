"""The install commands' wiring: the parser names every client in the table, an unknown client is
refused, ``mcp-workbench serve`` does not load the install machinery, and install compiles the
installation's bytecode."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_workbench.cli.install import clients
from mcp_workbench.cli.install.bytecode import compile_installation
from mcp_workbench.cli.install.entries import this_installation
from mcp_workbench.cli.install.parser import CLIENT_NAMES
from tests.cli.install.support import Sandbox


def test_the_help_names_exactly_the_clients_in_the_table() -> None:
    assert CLIENT_NAMES.split(", ") == list(clients.CLIENTS)


def test_an_unknown_client_is_refused_with_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = Sandbox(tmp_path, tmp_path, capsys)
    run = box.cli("install", "notepad", "--no-verify")
    assert run.code == 2 and "unknown client 'notepad'" in run.err and "opencode" in run.err
    assert box.files() == {}


def test_the_server_command_line_does_not_load_the_install_machinery() -> None:
    probe = (
        "import sys, mcp_workbench.cli.main as m; m.build_parser(); "
        "heavy = [n for n in ('tomlkit', 'ruamel.yaml', 'mcp_workbench.cli.install.clients') if n in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_install_leaves_the_installation_compiled() -> None:
    launch = this_installation()
    assert compile_installation(launch) in {"compiled", "already compiled"}
    import fastmcp.server.server

    import mcp_workbench.server

    for module in (fastmcp.server.server, mcp_workbench.server):
        assert Path(importlib.util.cache_from_source(module.__file__)).is_file()
    assert compile_installation(launch) == "already compiled"  # a re-run does no work


class TestWhichLauncher:
    def test_a_venv_or_tool_install_is_started_by_its_own_interpreter(self) -> None:
        launch = this_installation(
            "/home/me/.local/share/uv/tools/mcp-workbench/bin/python",
            "/home/me/.local/share/uv/tools/mcp-workbench",
            {},
        )
        assert launch.command == "/home/me/.local/share/uv/tools/mcp-workbench/bin/python"
        assert launch.args == ("-m", "mcp_workbench") and launch.env == {}

    @pytest.mark.parametrize("prefix_in", ["archive", "UV_CACHE_DIR"])
    def test_a_throwaway_uvx_environment_is_replaced_by_uvx_with_this_version_pinned(
        self, tmp_path: Path, prefix_in: str
    ) -> None:
        from mcp_workbench import __version__

        (tmp_path / "bin").mkdir()
        for name in ("uv", "uvx"):
            (tmp_path / "bin" / name).touch()
        cache = tmp_path / "cache"
        prefix = cache / ("archive-v0/AbC" if prefix_in == "archive" else "builds-v0/x")
        environ = {"UV": str(tmp_path / "bin" / "uv"), "UV_CACHE_DIR": str(cache)}
        launch = this_installation(str(prefix / "bin" / "python"), str(prefix), environ)
        assert launch.command == str(tmp_path / "bin" / "uvx")
        assert launch.args == (f"mcp-workbench@{__version__}",)
        assert launch.env == {"UV_COMPILE_BYTECODE": "1"}
