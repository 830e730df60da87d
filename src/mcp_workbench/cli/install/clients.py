"""The table of clients: where each keeps its MCP servers, in which format and under which key,
the entry shape it reads, and how many tools it takes before it warns.

Adding a client is adding a row. Paths are functions of a :class:`~.paths.Host`, so every
system's layout can be computed anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from mcp_workbench.cli.install import entries
from mcp_workbench.cli.install.entries import Shape
from mcp_workbench.cli.install.formats import JSON, TOML, YAML_FORMAT, Format
from mcp_workbench.cli.install.paths import Host


@dataclass(frozen=True)
class Client:
    id: str
    title: str
    fmt: Format
    container: tuple[str, ...]
    user_path: Callable[[Host], PurePath]
    shape: Shape
    project_path: tuple[str, ...] | None = None  # relative to the project directory
    project_shape: Shape | None = None  # when the project file is shared with other clients
    project_container: tuple[str, ...] | None = None
    tool_budget: int | None = None
    note: Callable[[Host], str | None] = lambda host: None

    def path(self, host: Host, scope: str, project_dir: PurePath) -> PurePath:
        if scope == "project":
            if self.project_path is None:
                raise ValueError(f"{self.title} has no project-scoped MCP configuration; use --scope user")
            return project_dir.joinpath(*self.project_path)
        return self.user_path(host)

    def container_for(self, scope: str) -> tuple[str, ...]:
        return self.project_container if scope == "project" and self.project_container else self.container

    def shape_for(self, scope: str) -> Shape:
        return self.project_shape if scope == "project" and self.project_shape else self.shape


def _claude_desktop(host: Host) -> PurePath:
    if host.system == "darwin":
        return host.app_support / "Claude" / "claude_desktop_config.json"
    if host.system == "windows":
        return host.appdata / "Claude" / "claude_desktop_config.json"
    return host.xdg_config / "Claude" / "claude_desktop_config.json"


def _claude_desktop_note(host: Host) -> str | None:
    if host.system == "linux":
        return (
            "Claude Desktop has no official Linux app; this is where community builds read their config "
            f"({_claude_desktop(host)})"
        )
    return None


def _claude_code(host: Host) -> PurePath:
    return (host.env_dir("CLAUDE_CONFIG_DIR") or host.home) / ".claude.json"


def _zed(host: Host) -> PurePath:
    if host.system == "windows":
        return host.appdata / "Zed" / "settings.json"
    return host.xdg_config / "zed" / "settings.json"


def _vscode(host: Host) -> PurePath:
    return host.user_config_dir() / "Code" / "User" / "mcp.json"


def _codex(host: Host) -> PurePath:
    return (host.env_dir("CODEX_HOME") or host.home / ".codex") / "config.toml"


def _goose(host: Host) -> PurePath:
    if host.system == "windows":
        return host.appdata / "Block" / "goose" / "config" / "config.yaml"
    return host.xdg_config / "goose" / "config.yaml"


def _opencode(host: Host) -> PurePath:
    base = host.home / ".config" if host.system == "windows" else host.xdg_config
    return base / "opencode" / "opencode.json"


def _home(*parts: str) -> Callable[[Host], PurePath]:
    return lambda host: host.home.joinpath(*parts)


MCP_JSON = (".mcp.json",)  # the portable project file Claude Code, VS Code and the Copilot CLI share

CLIENTS: dict[str, Client] = {
    c.id: c
    for c in (
        Client(
            "claude-desktop",
            "Claude Desktop",
            JSON,
            ("mcpServers",),
            _claude_desktop,
            entries.NO_REMOTE,
            note=_claude_desktop_note,
        ),
        Client(
            "claude-code",
            "Claude Code",
            JSON,
            ("mcpServers",),
            _claude_code,
            entries.TYPED,
            MCP_JSON,
            entries.PORTABLE,
        ),
        Client(
            "cursor",
            "Cursor",
            JSON,
            ("mcpServers",),
            _home(".cursor", "mcp.json"),
            entries.PLAIN,
            (".cursor", "mcp.json"),
            tool_budget=80,
        ),
        Client(
            "windsurf",
            "Windsurf",
            JSON,
            ("mcpServers",),
            _home(".codeium", "windsurf", "mcp_config.json"),
            entries.WINDSURF,
            tool_budget=100,
        ),
        Client("zed", "Zed", JSON, ("context_servers",), _zed, entries.ZED, (".zed", "settings.json")),
        Client(
            "vscode",
            "VS Code",
            JSON,
            ("servers",),
            _vscode,
            entries.TYPED,
            MCP_JSON,
            entries.PORTABLE,
            ("mcpServers",),
            tool_budget=128,
        ),
        Client(
            "copilot-cli",
            "GitHub Copilot CLI",
            JSON,
            ("mcpServers",),
            _home(".copilot", "mcp-config.json"),
            entries.PORTABLE,
            MCP_JSON,
            tool_budget=128,
        ),
        Client("codex", "Codex", TOML, ("mcp_servers",), _codex, entries.CODEX),
        Client(
            "gemini-cli",
            "Gemini CLI",
            JSON,
            ("mcpServers",),
            _home(".gemini", "settings.json"),
            entries.GEMINI,
            (".gemini", "settings.json"),
        ),
        Client(
            "qwen-code",
            "Qwen Code",
            JSON,
            ("mcpServers",),
            _home(".qwen", "settings.json"),
            entries.GEMINI,
            (".qwen", "settings.json"),
        ),
        Client(
            "cline",
            "Cline",
            JSON,
            ("mcpServers",),
            _home(".cline", "data", "settings", "cline_mcp_settings.json"),
            entries.CLINE,
        ),
        Client("goose", "Goose", YAML_FORMAT, ("extensions",), _goose, entries.GOOSE),
        Client("opencode", "opencode", JSON, ("mcp",), _opencode, entries.OPENCODE, ("opencode.json",)),
    )
}


def get(client_id: str) -> Client:
    try:
        return CLIENTS[client_id]
    except KeyError:
        raise ValueError(f"unknown client {client_id!r}; one of: {', '.join(CLIENTS)}") from None
