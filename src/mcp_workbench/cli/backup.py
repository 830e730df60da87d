"""``mcp-workbench backup``, ``backup verify ARCHIVE`` and ``restore ARCHIVE``.

stdout carries each command's report (``backup``: the archive's path as its last line);
progress notes and refusals go to stderr. Exit codes: 0 done, 1 refused or failed (the
message says why and what to do), 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mcp_workbench.platform.errors import WorkbenchError
from mcp_workbench.settings import Settings

EXIT_FAILED = 1


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    backup = commands.add_parser(
        "backup", help="write one archive of the databases, the key store and the config file (or verify one)"
    )
    common(backup)
    backup.add_argument("--output", type=Path, help="directory of the archives (default: [backup] output)")
    backup.add_argument("--keep", type=int, help="archives to keep in it, newest first (default: [backup] keep)")
    backup.add_argument(
        "--source", action="append", default=[], metavar="NAME", help="back up only this source (repeatable)"
    )
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION")
    verify = actions.add_parser("verify", help="check an archive's checksums and contents without restoring it")
    verify.add_argument("archive", type=Path)
    common(verify)

    restore = commands.add_parser(
        "restore", help="restore an archive: verify it, keep a safety copy, swap the restored files in"
    )
    restore.add_argument("archive", type=Path)
    restore.add_argument(
        "--source", action="append", default=[], metavar="NAME", help="restore only this source (repeatable)"
    )
    restore.add_argument("--keys", action="store_true", help="with --source: restore the key store too")
    restore.add_argument("--with-config", action="store_true", help="restore the config file too")
    restore.add_argument("--dry-run", action="store_true", help="verify and check, then say what would change")
    restore.add_argument(
        "--force", action="store_true", help="restore even while a process holds a database (restart it afterwards)"
    )
    common(restore)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.command == "restore":
            return asyncio.run(_restore(args, settings))
        if args.backup_command == "verify":
            return asyncio.run(_verify(args, settings))
        return asyncio.run(_backup(args, settings))
    except WorkbenchError as exc:
        print(f"mcp-workbench: {exc.message}", file=sys.stderr)
        for step in exc.recovery_steps:
            print(f"  - {step}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a directory that cannot be written, a full disk
        print(f"mcp-workbench: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("mcp-workbench: interrupted; nothing was changed past the last step reported", file=sys.stderr)
        return 130


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from mcp_workbench.backup.backup import take_backup
    from mcp_workbench.backup_plan import plan_for

    if args.keep is not None and args.keep < 1:
        print("mcp-workbench: --keep must be at least 1", file=sys.stderr)
        return 2
    plan = plan_for(settings, output=args.output, keep=args.keep, sources=args.source, config_file=args.config)
    result = await take_backup(plan)
    for member in result.manifest.members:
        print(f"  {member.name}  {member.size} bytes  sha256 {member.sha256[:16]}…", file=sys.stderr)
    for skipped in result.manifest.skipped:
        print(f"  skipped {skipped.name}: {skipped.reason}", file=sys.stderr)
    for gone in result.pruned:
        print(f"  removed old archive {gone.name}", file=sys.stderr)
    print(f"Backup written in {result.seconds:.1f} s ({result.size} bytes).", file=sys.stderr)
    print(result.path)
    return 0


async def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from mcp_workbench.backup.verify import verify_archive

    with tempfile.TemporaryDirectory(prefix="workbench-verify-") as scratch:
        verified = await verify_archive(args.archive, Path(scratch), pg_bin_dir=settings.backup.pg_bin_dir)
    manifest = verified.manifest
    print(f"{args.archive}: mcp-workbench {manifest.version} backup of {manifest.created_at} from {manifest.host}")
    for checked in verified.checked:
        print(f"ok  {checked.member.name}  ({checked.result})")
    for skipped in manifest.skipped:
        print(f"--  {skipped.name}  skipped at backup: {skipped.reason}")
    return 0


async def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from mcp_workbench.backup.restore import restore_archive
    from mcp_workbench.backup_plan import plan_for

    restored = await restore_archive(
        plan_for(settings, sources=list(settings.sources()), config_file=args.config),
        args.archive,
        sources=args.source,
        keys=args.keys,
        config=args.with_config,
        dry_run=args.dry_run,
        force=args.force,
    )
    verb = "would restore" if restored.dry_run else "restored"
    for step in restored.steps:
        print(f"{verb}  {step.member.name}  ->  {step.target}")
        for kept in step.safety:
            print(f"    safety copy: {kept}")
        if step.warning:
            print(f"    warning: {step.warning}")
    for note in restored.notes:
        print(f"note: {note}")
    if restored.dry_run:
        print("Dry run: the archive verified and the checks passed; nothing was changed.")
    return 0
