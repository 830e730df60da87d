"""Where each client's config lives on Linux, macOS and Windows, computed from an emulated host
(system, home, environment passed in), and the project-scoped files."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from mcp_workbench.cli.install.clients import CLIENTS
from mcp_workbench.cli.install.paths import Host

LINUX = Host.emulated("linux", "/home/me")
MAC = Host.emulated("darwin", "/Users/me")
WINDOWS = Host.emulated(
    "windows", r"C:\Users\me", {"APPDATA": r"C:\Users\me\AppData\Roaming", "USERPROFILE": r"C:\Users\me"}
)
AS = "/Users/me/Library/Application Support"
ROAMING = r"C:\Users\me\AppData\Roaming"

EXPECTED = {
    "claude-desktop": (
        "/home/me/.config/Claude/claude_desktop_config.json",
        f"{AS}/Claude/claude_desktop_config.json",
        rf"{ROAMING}\Claude\claude_desktop_config.json",
    ),
    "claude-code": ("/home/me/.claude.json", "/Users/me/.claude.json", r"C:\Users\me\.claude.json"),
    "cursor": ("/home/me/.cursor/mcp.json", "/Users/me/.cursor/mcp.json", r"C:\Users\me\.cursor\mcp.json"),
    "windsurf": (
        "/home/me/.codeium/windsurf/mcp_config.json",
        "/Users/me/.codeium/windsurf/mcp_config.json",
        r"C:\Users\me\.codeium\windsurf\mcp_config.json",
    ),
    "zed": (
        "/home/me/.config/zed/settings.json",
        "/Users/me/.config/zed/settings.json",
        rf"{ROAMING}\Zed\settings.json",
    ),
    "vscode": ("/home/me/.config/Code/User/mcp.json", f"{AS}/Code/User/mcp.json", rf"{ROAMING}\Code\User\mcp.json"),
    "copilot-cli": (
        "/home/me/.copilot/mcp-config.json",
        "/Users/me/.copilot/mcp-config.json",
        r"C:\Users\me\.copilot\mcp-config.json",
    ),
    "codex": ("/home/me/.codex/config.toml", "/Users/me/.codex/config.toml", r"C:\Users\me\.codex\config.toml"),
    "gemini-cli": (
        "/home/me/.gemini/settings.json",
        "/Users/me/.gemini/settings.json",
        r"C:\Users\me\.gemini\settings.json",
    ),
    "qwen-code": ("/home/me/.qwen/settings.json", "/Users/me/.qwen/settings.json", r"C:\Users\me\.qwen\settings.json"),
    "cline": (
        "/home/me/.cline/data/settings/cline_mcp_settings.json",
        "/Users/me/.cline/data/settings/cline_mcp_settings.json",
        r"C:\Users\me\.cline\data\settings\cline_mcp_settings.json",
    ),
    "goose": (
        "/home/me/.config/goose/config.yaml",
        "/Users/me/.config/goose/config.yaml",
        rf"{ROAMING}\Block\goose\config\config.yaml",
    ),
    "opencode": (
        "/home/me/.config/opencode/opencode.json",
        "/Users/me/.config/opencode/opencode.json",
        r"C:\Users\me\.config\opencode\opencode.json",
    ),
}


def test_every_client_has_expected_paths() -> None:
    assert set(EXPECTED) == set(CLIENTS)


@pytest.mark.parametrize("client", sorted(EXPECTED))
class TestUserConfigPaths:
    def test_linux(self, client: str) -> None:
        assert CLIENTS[client].path(LINUX, "user", PurePosixPath("/p")) == PurePosixPath(EXPECTED[client][0])

    def test_macos(self, client: str) -> None:
        assert CLIENTS[client].path(MAC, "user", PurePosixPath("/p")) == PurePosixPath(EXPECTED[client][1])

    def test_windows(self, client: str) -> None:
        path = CLIENTS[client].path(WINDOWS, "user", PureWindowsPath(r"D:\p"))
        assert isinstance(path, PureWindowsPath)
        assert path == PureWindowsPath(EXPECTED[client][2])


class TestEnvironmentOverrides:
    def test_xdg_config_home_moves_the_xdg_clients_on_linux(self) -> None:
        host = Host.emulated("linux", "/home/me", {"XDG_CONFIG_HOME": "/cfg"})
        assert CLIENTS["zed"].path(host, "user", PurePosixPath("/p")) == PurePosixPath("/cfg/zed/settings.json")
        assert CLIENTS["goose"].path(host, "user", PurePosixPath("/p")) == PurePosixPath("/cfg/goose/config.yaml")
        assert CLIENTS["cursor"].path(host, "user", PurePosixPath("/p")) == PurePosixPath("/home/me/.cursor/mcp.json")

    def test_appdata_decides_windows_roaming_paths(self) -> None:
        host = Host.emulated("windows", r"C:\Users\me", {"APPDATA": r"E:\Roam"})
        path = CLIENTS["claude-desktop"].path(host, "user", PureWindowsPath("D:/p"))
        assert path == PureWindowsPath(r"E:\Roam\Claude\claude_desktop_config.json")

    def test_codex_home_and_claude_config_dir(self) -> None:
        host = Host.emulated("linux", "/home/me", {"CODEX_HOME": "/c", "CLAUDE_CONFIG_DIR": "/cc"})
        assert CLIENTS["codex"].path(host, "user", PurePosixPath("/p")) == PurePosixPath("/c/config.toml")
        assert CLIENTS["claude-code"].path(host, "user", PurePosixPath("/p")) == PurePosixPath("/cc/.claude.json")


PROJECT = {
    "claude-code": ".mcp.json",
    "vscode": ".mcp.json",
    "copilot-cli": ".mcp.json",
    "cursor": ".cursor/mcp.json",
    "zed": ".zed/settings.json",
    "gemini-cli": ".gemini/settings.json",
    "qwen-code": ".qwen/settings.json",
    "opencode": "opencode.json",
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_project_scope_is_a_file_in_the_project_or_refused(client: str) -> None:
    if client in PROJECT:
        assert CLIENTS[client].path(LINUX, "project", PurePosixPath("/p")) == PurePosixPath("/p", PROJECT[client])
    else:
        with pytest.raises(ValueError, match="no project-scoped"):
            CLIENTS[client].path(LINUX, "project", PurePosixPath("/p"))


def test_claude_desktop_on_linux_says_there_is_no_official_app_and_where_it_would_write() -> None:
    note = CLIENTS["claude-desktop"].note(LINUX)
    assert note is not None and "no official Linux app" in note
    assert "/home/me/.config/Claude/claude_desktop_config.json" in note
    assert CLIENTS["claude-desktop"].note(MAC) is None and CLIENTS["claude-desktop"].note(WINDOWS) is None
