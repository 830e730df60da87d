"""``mcp-workbench`` command line.

CLI flags are the top layer of configuration; they are turned into overrides of the one
settings object (see :mod:`mcp_workbench.settings`), never read anywhere else. A bad
configuration ends the process with exit code 2 and a message naming the key.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcp_workbench import __version__
from mcp_workbench.cli import backup, keys
from mcp_workbench.cli.install import parser as install_parser
from mcp_workbench.settings import ConfigError, load_settings

EXIT_CONFIG = 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: $WORKBENCH_CONFIG or the user config dir)"
    )
    parser.add_argument("--data-dir", type=Path, help="where the workspace database, keys and state live")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-workbench", description="A production MCP server for data, files and the web."
    )
    parser.add_argument("--version", action="version", version=f"mcp-workbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    _common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], help="stdio (default) or streamable HTTP")
    serve.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8000)")
    serve.add_argument("--path", help="HTTP path of the MCP endpoint (default /mcp)")
    serve.add_argument("--workers", type=int, help="HTTP worker processes (default 1; more implies stateless)")
    serve.add_argument(
        "--no-auth", action="store_true", help="HTTP without authentication (loopback only; logs a warning)"
    )
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    serve.add_argument(
        "--root",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="a directory the file tools may use (repeatable; named after the directory)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host, address or CIDR web_fetch may reach despite the SSRF guard, e.g. 127.0.0.1 for a local "
        "dev server (repeatable; replaces [web] allow_hosts)",
    )
    keys.add_parser(commands, common=_common)
    backup.add_parsers(commands, common=_common)
    install_parser.add_parsers(commands)
    return parser


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags as a partial settings dict (unset flags are left out so lower layers show through)."""
    http = {
        key: getattr(args, key, None)
        for key in ("host", "port", "path", "workers")
        if getattr(args, key, None) is not None
    }
    if getattr(args, "no_auth", False):
        http["auth"] = "none"
    values: dict[str, Any] = {
        "transport": getattr(args, "transport", None),
        "data_dir": args.data_dir,
        "log_level": getattr(args, "log_level", None),
    }
    if http:
        values["http"] = http
    if getattr(args, "root", None):
        values["files"] = {"roots": cli_roots(args.root)}
    if getattr(args, "allow_host", None):
        values["web"] = {"allow_hosts": args.allow_host}
    return {key: value for key, value in values.items() if value is not None}


def root_name(path: Path) -> str:
    """A --root's name is its directory's name (``.`` resolves to the current directory's),
    made a simple name: other characters become ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", path.expanduser().resolve().name).lstrip(".-")[:60]
    return name or "root"


def cli_roots(paths: list[Path]) -> dict[str, dict[str, Path]]:
    """Roots from repeated --root flags; a repeated directory name gets a -2, -3 ... suffix."""
    roots: dict[str, dict[str, Path]] = {}
    for path in paths:
        base = name = root_name(path)
        counter = 2
        while name.casefold() in {n.casefold() for n in roots}:
            name, counter = f"{base}-{counter}", counter + 1
        roots[name] = {"path": path.expanduser()}
    return roots


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `mcp-workbench` is what client configs often run: serve stdio
        args = parser.parse_args(["serve"])
    if args.command in ("install", "uninstall"):  # edits client configs; the server's settings are not loaded
        from mcp_workbench.cli.install import command as install_command

        return install_command.run(args)
    try:
        settings = load_settings(args.config, **overrides_from(args))
    except ConfigError as exc:
        print(f"mcp-workbench: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "keys":
        return keys.run(args, settings)
    if args.command in ("backup", "restore"):
        return backup.run(args, settings)
    if args.config is not None:  # so the server's scheduled backups (and worker processes) know the file
        os.environ["WORKBENCH_CONFIG"] = str(args.config.resolve())
    from mcp_workbench.cli.serve import serve  # imported late: `--help` stays instant

    return serve(settings)
