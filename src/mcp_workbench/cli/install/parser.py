"""The ``install`` / ``uninstall`` argument parsers. Kept free of the client table and the
format libraries: every ``mcp-workbench`` start (``serve`` included) builds these parsers."""

from __future__ import annotations

import argparse
from pathlib import Path

SCOPES = ("user", "project")
DEFAULT_NAME = "workbench"
VERIFY_TIMEOUT_S = 10.0  # the window a cold start gets in the check (tests on busy machines pass more)
CLIENT_NAMES = (  # the --help text; clients.CLIENTS is the table (a test keeps the two equal)
    "claude-desktop, claude-code, cursor, windsurf, zed, vscode, copilot-cli, codex, gemini-cli, qwen-code, cline, "
    "goose, opencode"
)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    install = commands.add_parser(
        "install", help="add this server to an MCP client's config", description=f"CLIENT is one of: {CLIENT_NAMES}."
    )
    install.add_argument("client", nargs="?", metavar="CLIENT")
    install.add_argument("--list", action="store_true", help="show every client, its config file and our entry")
    install.add_argument("--json", action="store_true", help="with --list: JSON for scripts")
    _shared(install)
    install.add_argument("--config", type=Path, help="the server's TOML config file (passed as an absolute path)")
    install.add_argument("--root", action="append", type=Path, default=[], metavar="PATH", help="a --root to pass")
    install.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="environment for the server")
    install.add_argument("--url", help="add a remote (streamable HTTP) server at URL instead of a local one")
    install.add_argument("--header", action="append", default=[], metavar="'Name: value'", help="with --url")
    install.add_argument("--no-verify", action="store_true", help="skip the handshake check after writing")
    install.add_argument("--no-compile", action="store_true", help="do not byte-compile the installation")
    install.add_argument("--verify-timeout", type=float, default=VERIFY_TIMEOUT_S, help=argparse.SUPPRESS)

    uninstall = commands.add_parser("uninstall", help="remove this server's entry from an MCP client's config")
    uninstall.add_argument("client", metavar="CLIENT")
    _shared(uninstall)


def _shared(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scope", choices=SCOPES, default="user", help="user (default) or project (cwd)")
    parser.add_argument("--name", default=DEFAULT_NAME, help="the entry's name (default: workbench)")
    parser.add_argument("--file", type=Path, help="the client config file to edit, instead of its usual place")
    parser.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
