"""The ``doctor`` argument parser. Kept free of the checks themselves: every ``mcp-workbench``
start (``serve`` included) builds this parser."""

from __future__ import annotations

import argparse

from mcp_workbench.cli.flags import add_common, add_root_flags

# The --help text; checks.CHECKS is the registry (a test keeps the two equal).
CHECK_NAMES = (
    "python",
    "bytecode",
    "uv",
    "config",
    "data-dir",
    "sources",
    "roots",
    "egress",
    "stdio",
    "tool-budget",
    "clients",
    "http-auth",
    "sealing-keys",
    "redis",
    "research-pacing",
    "port",
)
DEFAULT_TIMEOUT_S = 30.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check this installation and its configuration, and say how to fix what is wrong",
        description="Runs named checks; each is ok, a warning or a failure, with the fix for what it found. "
        "Exits 1 when a check fails. Give it the flags an entry passes to `serve` to check exactly that "
        "configuration.",
    )
    add_common(doctor)
    add_root_flags(doctor)
    doctor.add_argument(
        "--transport", choices=["stdio", "http"], help="check as this transport (http adds auth, sealing keys, port)"
    )
    doctor.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only this check (repeatable, or comma-separated): {', '.join(CHECK_NAMES)}",
    )
    doctor.add_argument("--json", action="store_true", help="JSON for scripts")
    doctor.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds a server start may take in the stdio check (default {DEFAULT_TIMEOUT_S:g})",
    )
