"""``mcp-workbench`` command line.

CLI flags are the top layer of configuration; they are turned into overrides of the one
settings object (see :mod:`mcp_workbench.settings`), never read anywhere else. A bad
configuration ends the process with exit code 2 and a message naming the key.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mcp_workbench import __version__
from mcp_workbench.cli import backup, keys
from mcp_workbench.cli.bundle import parser as bundle_parser
from mcp_workbench.cli.doctor import parser as doctor_parser
from mcp_workbench.cli.flags import add_common, add_root_flags, cli_roots, overrides_from, root_name
from mcp_workbench.cli.install import parser as install_parser
from mcp_workbench.settings import ConfigError, load_settings

EXIT_CONFIG = 2
__all__ = ["build_parser", "cli_roots", "main", "overrides_from", "root_name"]  # the flag helpers live in flags.py


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-workbench", description="A production MCP server for data, files and the web."
    )
    parser.add_argument("--version", action="version", version=f"mcp-workbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    add_common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], help="stdio (default) or streamable HTTP")
    serve.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8000)")
    serve.add_argument("--path", help="HTTP path of the MCP endpoint (default /mcp)")
    serve.add_argument("--workers", type=int, help="HTTP worker processes (default 1; more implies stateless)")
    serve.add_argument(
        "--no-auth", action="store_true", help="HTTP without authentication (loopback only; logs a warning)"
    )
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    add_root_flags(serve, positional=True)
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host, address or CIDR web_fetch may reach despite the SSRF guard, e.g. 127.0.0.1 for a local "
        "dev server (repeatable; replaces [web] allow_hosts)",
    )
    keys.add_parser(commands, common=add_common)
    backup.add_parsers(commands, common=add_common)
    install_parser.add_parsers(commands)
    doctor_parser.add_parser(commands)
    bundle_parser.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `mcp-workbench` is what client configs often run: serve stdio
        args = parser.parse_args(["serve"])
    if args.command in ("install", "uninstall"):  # edits client configs; the server's settings are not loaded
        from mcp_workbench.cli.install import command as install_command

        return install_command.run(args)
    if args.command == "bundle":
        from mcp_workbench.cli.bundle import command as bundle_command

        return bundle_command.run(args)
    if args.command == "doctor":  # loads the configuration itself, to report what is wrong with it
        from mcp_workbench.cli.doctor import command as doctor_command

        return doctor_command.run(args)
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
