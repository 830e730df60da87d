"""``mcp-workbench install CLIENT`` / ``uninstall CLIENT`` / ``install --list``.

These commands never run the stdio transport, so they report on stdout. Exit codes: 0 done
(or nothing to do), 1 the entry was written but the handshake check failed, 2 refused (bad
arguments, a config file that does not parse: nothing written).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mcp_workbench.cli.install import bytecode, clients, service
from mcp_workbench.cli.install.entries import Launch, Remote, Target, server_launch
from mcp_workbench.cli.install.paths import Host

EXIT_VERIFY_FAILED = 1
EXIT_REFUSED = 2
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _pairs(values: list[str], sep: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in values:
        key, found, value = raw.partition(sep)
        key = key.strip()
        if not found or not key:
            raise service.InstallError(f"{what} {raw!r} is not {'KEY=VALUE' if sep == '=' else 'Name: value'}")
        if sep == "=" and not _ENV_KEY.match(key):
            raise service.InstallError(f"--env {raw!r}: {key!r} is not a variable name")
        out[key] = value if sep == "=" else value.strip()
    return out


def _target(args: argparse.Namespace) -> Target:
    if args.url:
        if not re.match(r"^https?://", args.url):
            raise service.InstallError(f"--url {args.url!r} must start with http:// or https://")
        return Remote(args.url, _pairs(args.header, ":", "--header"))
    if args.header:
        raise service.InstallError("--header only goes with --url")
    for root in args.root:
        if not root.expanduser().is_dir():
            raise service.InstallError(f"--root {root}: not a directory")
    if args.config is not None and not args.config.expanduser().is_file():
        raise service.InstallError(f"--config {args.config}: no such file")
    return server_launch(roots=args.root, config=args.config, env=_pairs(args.env, "=", "--env"))


def run(args: argparse.Namespace, host: Host | None = None, project_dir: Path | None = None) -> int:
    host = host or Host.current()
    project_dir = project_dir or Path.cwd()
    try:
        if args.command == "install" and args.list:
            return _list(args, host, project_dir)
        if args.client is None:
            raise service.InstallError("name a CLIENT (or use --list): " + ", ".join(clients.CLIENTS))
        try:
            client = clients.get(args.client)
        except ValueError as exc:
            raise service.InstallError(str(exc)) from None
        if args.command == "install":
            plan = service.plan_install(
                client, args.scope, _target(args), name=args.name, host=host, project_dir=project_dir, file=args.file
            )
        else:
            plan = service.plan_uninstall(
                client, args.scope, name=args.name, host=host, project_dir=project_dir, file=args.file
            )
    except service.InstallError as exc:
        print(f"mcp-workbench: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    note = client.note(host)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if args.dry_run:
        print(plan.diff() if plan.changes else f"{plan.path}: no change needed", end="" if plan.changes else "\n")
        return 0
    try:
        done = service.apply(plan)
    except OSError as exc:  # the old file is untouched: the replace is the last step
        print(f"mcp-workbench: cannot write {plan.path}: {exc.strerror or exc}. Nothing was changed.", file=sys.stderr)
        return EXIT_REFUSED
    except service.InstallError as exc:
        print(f"mcp-workbench: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    verb = "installed in" if args.command == "install" else "removed from"
    if not done.written:
        present = "already there, unchanged" if args.command == "install" else "not there"
        print(f"{client.title}: '{plan.name}' {present} ({plan.path}); nothing written")
    else:
        print(f"{client.title}: '{plan.name}' {verb} {plan.path}")
        if done.backup:
            print(f"backup: {done.backup}")
    if args.command != "install":
        return 0
    target = service.written_target(plan)
    if isinstance(target, Launch) and bytecode.compiles(target) and not args.no_compile:
        print(f"bytecode: {bytecode.compile_installation(target)}")
    if not args.no_verify:
        return _verify(plan, args.verify_timeout)
    return 0


def _verify(plan: service.Plan, timeout_s: float) -> int:
    from mcp_workbench.cli.install import verify  # fastmcp's client: loaded only for the check

    target = service.written_target(plan)
    if target is None:
        print("check: the written entry cannot be read back")
        return EXIT_VERIFY_FAILED
    results = verify.check_sync(target, timeout_s)
    failed = False
    for result in results:
        era = "handshake era" if result.era == "legacy" else "2026-07-28"
        if result.ok:
            print(f"check ({era}): connected, protocol {result.protocol}, {result.tools} tools")
        else:
            failed = True
            print(f"check ({era}): FAILED: {result.error}")
    counts = [r.tools for r in results if r.tools is not None]
    budget = plan.client.tool_budget
    if counts and budget:
        most = max(counts)
        verdict = "within" if most <= budget else "OVER"
        print(f"tools: {most} of {plan.client.title}'s budget of {budget} ({verdict})")
    return EXIT_VERIFY_FAILED if failed else 0


def _list(args: argparse.Namespace, host: Host, project_dir: Path) -> int:
    found = service.statuses(name=args.name, host=host, project_dir=project_dir)
    if args.json:
        rows: list[dict[str, Any]] = []
        for item in found:
            row = asdict(item)
            row["path"] = str(item.path)
            rows.append(row)
        print(json.dumps(rows, indent=1, default=str))
        return 0
    width = max(len(c) for c in clients.CLIENTS) + 2
    for item in found:
        label = {"no-file": "no config file", "absent": "not installed"}.get(item.state, item.state)
        detail = f" - {item.detail}" if item.detail else ""
        print(f"{item.client:<{width}}{item.scope:<8}{label:<15}{item.path}{detail}")
        if item.note:
            print(f"{'':<{width}}note: {item.note}")
    return 0
