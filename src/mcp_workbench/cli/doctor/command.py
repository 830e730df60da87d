"""``mcp-workbench doctor``: run the checks, print the report (text, or ``--json``), exit 1 when
one failed (2 for an unknown check name). The report goes to stdout: doctor never runs the
stdio transport itself."""

from __future__ import annotations

import argparse
import sys

import anyio

from mcp_workbench import __version__
from mcp_workbench.cli.doctor import checks, context, report
from mcp_workbench.cli.flags import overrides_from


def serve_flags(args: argparse.Namespace) -> tuple[str, ...]:
    """The flags that give a ``serve`` started by the stdio check doctor's own configuration."""
    flags: list[str] = []
    if args.config is not None:
        flags += ["--config", str(args.config.expanduser().absolute())]
    if args.data_dir is not None:
        flags += ["--data-dir", str(args.data_dir.expanduser().absolute())]
    for root in args.root:
        flags += ["--root", str(root.expanduser().absolute())]
    if args.read_only:
        flags.append("--read-only")
    return tuple(flags)


def run(args: argparse.Namespace) -> int:
    names = [name.strip() for raw in args.check for name in raw.split(",") if name.strip()]
    if bad := checks.unknown(names):
        print(f"mcp-workbench: no check named {', '.join(bad)}; one of: {', '.join(checks.CHECKS)}", file=sys.stderr)
        return report.EXIT_USAGE
    ctx = context.load(
        config=args.config,
        overrides=overrides_from(args),
        cli_args=serve_flags(args),
        timeout_s=args.timeout,
    )
    findings = anyio.run(checks.run, ctx, names)
    config = str(ctx.config_path) if ctx.config_path else None
    if args.json:
        sys.stdout.write(report.to_json(findings, version=__version__, config=config) + "\n")
    else:
        sys.stdout.write(report.to_text(findings, version=__version__, config=config, stream=sys.stdout))
    return report.exit_code(findings)
