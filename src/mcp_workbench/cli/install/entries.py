"""What an entry starts: a local command (:class:`Launch`) or a remote endpoint (:class:`Remote`),
and the entry shapes each client family writes and reads back.

Reading back matters as much as writing: ``--list`` (and ``doctor``) judge an existing entry,
and the post-install check starts *the written entry*, not what we meant to write.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Our startup window for clients that let an entry set one: a cold start without compiled
# bytecode on a busy machine takes seconds, and several clients give a server only a few.
STARTUP_WINDOW_S = 60


@dataclass(frozen=True)
class Launch:
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Remote:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


Target = Launch | Remote


def _in_uv_cache(prefix: str, environ: Mapping[str, str]) -> bool:
    """uvx runs tools from environments in uv's cache (``…/archive-v0/<hash>``), which ``uv cache
    clean`` deletes; an entry must not point into one."""
    if any(part.startswith("archive-v") for part in Path(prefix).parts):
        return True
    cache = environ.get("UV_CACHE_DIR", "").strip()
    return bool(cache) and Path(prefix).is_relative_to(cache)


def this_installation(
    executable: str | None = None, prefix: str | None = None, environ: Mapping[str, str] | None = None
) -> Launch:
    """What starts this installation again: the interpreter running now, by absolute path (not
    resolved: a venv's python is a link into the base interpreter, and resolving it would leave
    the venv behind). When that interpreter is a throwaway uvx environment, uvx itself (by
    absolute path) with this version pinned, compiling bytecode on its first install."""
    executable = executable or sys.executable
    prefix = prefix or sys.prefix
    environ = os.environ if environ is None else environ
    if _in_uv_cache(prefix, environ):
        uv = environ.get("UV", "")
        uvx = str(Path(uv).with_name("uvx")) if uv else (shutil.which("uvx") or "")
        if uvx and Path(uvx).exists():
            from mcp_workbench import __version__

            return Launch(os.path.abspath(uvx), (f"mcp-workbench@{__version__}",), {"UV_COMPILE_BYTECODE": "1"})
    return Launch(os.path.abspath(executable), ("-m", "mcp_workbench"))


def server_launch(
    *, roots: list[Path], config: Path | None, env: dict[str, str], launcher: Launch | None = None
) -> Launch:
    base = launcher or this_installation()
    args = [*base.args, "serve"]
    if config is not None:
        args += ["--config", str(config.expanduser().absolute())]
    for root in roots:
        args += ["--root", str(root.expanduser().absolute())]
    return Launch(base.command, tuple(args), {**base.env, "PYTHONUTF8": "1", **env})


# --- shapes -----------------------------------------------------------------------------------
# Each shape: stdio(launch) -> dict, remote(remote) -> dict, and read(entry) -> Target | None.


def _str_dict(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _args(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Shape:
    """An entry layout: key names for command/args/env/url/headers, fixed extra keys, and the
    client's start-up timeout key (with the value in its unit)."""

    command: str = "command"
    args: str | None = "args"  # None: the command is one list (opencode)
    env: str = "env"
    url: str | None = "url"  # None: the client has no remote form in its config
    headers: str = "headers"
    stdio_extra: tuple[tuple[str, Any], ...] = ()
    remote_extra: tuple[tuple[str, Any], ...] = ()
    timeout: tuple[str, int] | None = None
    with_name: bool = False  # Goose repeats the name inside the entry

    def stdio(self, launch: Launch, name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name} if self.with_name else {}
        entry.update(dict(self.stdio_extra))
        if self.args is None:
            entry[self.command] = [launch.command, *launch.args]
        else:
            entry[self.command] = launch.command
            entry[self.args] = list(launch.args)
        entry[self.env] = dict(launch.env)
        if self.timeout:
            entry[self.timeout[0]] = self.timeout[1]
        return entry

    def remote(self, remote: Remote, name: str) -> dict[str, Any]:
        if self.url is None:
            raise ValueError("no remote form")
        entry: dict[str, Any] = {"name": name} if self.with_name else {}
        entry.update(dict(self.remote_extra))
        entry[self.url] = remote.url
        if remote.headers:
            entry[self.headers] = dict(remote.headers)
        if self.timeout:
            entry[self.timeout[0]] = self.timeout[1]
        return entry

    def read(self, entry: dict[str, Any]) -> Target | None:
        for key in dict.fromkeys(k for k in (self.url, "url", "serverUrl", "httpUrl", "uri") if k is not None):
            if isinstance(entry.get(key), str):
                return Remote(entry[key], _str_dict(entry.get(self.headers) or entry.get("headers")))
        command = entry.get(self.command)
        if self.args is None and isinstance(command, list) and command:
            return Launch(str(command[0]), _args(command[1:]), _str_dict(entry.get(self.env)))
        if isinstance(command, str) and command:
            return Launch(command, _args(entry.get(self.args or "args")), _str_dict(entry.get(self.env)))
        return None


PLAIN = Shape()  # Claude Desktop, Cursor
WINDSURF = Shape(url="serverUrl")
TYPED = Shape(stdio_extra=(("type", "stdio"),), remote_extra=(("type", "http"),))  # Claude Code, VS Code
PORTABLE = Shape(  # .mcp.json / ~/.copilot/mcp-config.json; the Copilot CLI exposes no tool without "tools"
    stdio_extra=(("type", "stdio"), ("tools", ["*"])), remote_extra=(("type", "http"), ("tools", ["*"]))
)
ZED = Shape(stdio_extra=(("source", "custom"),), remote_extra=(("source", "custom"),))
GEMINI = Shape(url="httpUrl", timeout=("timeout", 600_000))  # ms; Gemini's own request default
CLINE = Shape(
    stdio_extra=(("type", "stdio"), ("disabled", False)),
    remote_extra=(("type", "streamableHttp"), ("disabled", False)),
    timeout=("timeout", STARTUP_WINDOW_S),  # s; without it Cline gives initialize 3 s
)
CODEX = Shape(headers="http_headers", timeout=("startup_timeout_sec", STARTUP_WINDOW_S))
GOOSE = Shape(
    command="cmd",
    env="envs",
    url="uri",
    stdio_extra=(("type", "stdio"), ("enabled", True)),
    remote_extra=(("type", "streamable_http"), ("enabled", True)),
    timeout=("timeout", 300),
    with_name=True,
)
OPENCODE = Shape(
    args=None,
    env="environment",
    stdio_extra=(("type", "local"), ("enabled", True)),
    remote_extra=(("type", "remote"), ("enabled", True)),
    timeout=("timeout", STARTUP_WINDOW_S * 1000),  # ms to list tools; opencode's default is 5 s
)
NO_REMOTE = Shape(url=None)  # Claude Desktop: remote servers are added as connectors in the app
