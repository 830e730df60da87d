"""``mcp-workbench`` command line.

CLI flags are the top layer of configuration; they are turned into overrides of the one
settings object (see :mod:`mcp_workbench.settings`), never read anywhere else. A bad
configuration ends the process with exit code 2 and a message naming the key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcp_workbench import __version__
from mcp_workbench.settings import ConfigError, load_settings

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-workbench", description="A production MCP server for data, files and the web."
    )
    parser.add_argument("--version", action="version", version=f"mcp-workbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument(
        "--config", type=Path, help="TOML config file (default: $WORKBENCH_CONFIG or the user config dir)"
    )
    serve.add_argument("--transport", choices=["stdio", "http"], help="stdio (default) or streamable HTTP")
    serve.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8000)")
    serve.add_argument("--path", help="HTTP path of the MCP endpoint (default /mcp)")
    serve.add_argument("--data-dir", type=Path, help="where the workspace database and state live")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    serve.add_argument(
        "--root",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="a directory the file tools may use (repeatable; named after the directory)",
    )
    return parser


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags as a partial settings dict (unset flags are left out so lower layers show through)."""
    http = {key: getattr(args, key) for key in ("host", "port", "path") if getattr(args, key) is not None}
    values: dict[str, Any] = {
        "transport": args.transport,
        "data_dir": args.data_dir,
        "log_level": args.log_level,
    }
    if http:
        values["http"] = http
    if args.root:
        values["files"] = {"roots": {root_name(path): {"path": path} for path in args.root}}
    return {key: value for key, value in values.items() if value is not None}


def root_name(path: Path) -> str:
    """A --root's name is its directory's name (``.`` resolves to the current directory's)."""
    return path.expanduser().resolve().name or "root"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `mcp-workbench` is what client configs often run: serve stdio
        args = parser.parse_args(["serve"])
    try:
        settings = load_settings(args.config, **overrides_from(args))
    except ConfigError as exc:
        print(f"mcp-workbench: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from mcp_workbench.cli.serve import serve  # imported late: `--help` stays instant

    return serve(settings)
