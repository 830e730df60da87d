"""Restoring an archive: verify it whole, check nothing holds what will be replaced, keep a
safety copy of each thing replaced, then swap the restored copy in.

What is restored: by default every database source in the archive that is configured here
(same name, same engine) and the key store; ``sources`` narrows it to the named sources (plus
the key store only when ``keys`` asks for it); the config file only when ``config`` asks.
Every check runs before anything changes, so a refusal changes nothing; ``dry_run`` stops
after the checks and reports the plan.

Safety copies: a SQLite file and its log stay beside it as ``NAME.pre-restore-STAMP`` (see
:mod:`.sqlite`); the key store and the config file as ``NAME.pre-restore-STAMP``; a
PostgreSQL database is dumped to ``pre-restore-STAMP-SOURCE.pgdump`` in the backup directory
before ``pg_restore --clean --if-exists --no-owner`` replaces its objects in one transaction.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mcp_workbench.backup import postgres
from mcp_workbench.backup import sqlite as sqlite_files
from mcp_workbench.backup.archive import Manifest, Member, fsync_dir, private_dir
from mcp_workbench.backup.backup import CONFIG_MEMBER, KEYS_MEMBER
from mcp_workbench.backup.errors import BackupFailed, DatabaseInUse, NothingToRestore
from mcp_workbench.backup.holders import CannotCheck, holders
from mcp_workbench.backup.plan import Plan, Source
from mcp_workbench.backup.verify import Verified, verify_archive
from mcp_workbench.backup.work import blocking


@dataclass
class Step:
    """One thing a restore replaces."""

    member: Member
    target: str
    safety: list[Path] = field(default_factory=list)
    done: bool = False
    warning: str | None = None


@dataclass
class Restored:
    archive: Path
    manifest: Manifest
    steps: list[Step]
    notes: list[str]
    dry_run: bool


@dataclass
class _Job:
    step: Step
    extracted: Path
    source: Source | None = None
    path: Path | None = None
    tools: postgres.Tools | None = None


async def restore_archive(
    plan: Plan,
    archive: Path,
    *,
    sources: list[str] | None = None,
    keys: bool = False,
    config: bool = False,
    dry_run: bool = False,
    force: bool = False,
) -> Restored:
    """Restore ``archive`` into the places ``plan`` names. Raises :class:`ArchiveDamaged`,
    :class:`NothingToRestore`, :class:`DatabaseInUse` or :class:`BackupFailed`; nothing changes
    unless every check passed."""
    data_dir = plan.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    scratch = private_dir(data_dir / f".restore-{stamp}-{os.getpid()}")
    try:
        verified = await verify_archive(archive, scratch, pg_bin_dir=plan.pg_bin_dir)
        jobs, notes = _select(plan, verified, sources or [], keys=keys or not sources, config=config)
        await _preflight(jobs, force=force, pg_bin_dir=plan.pg_bin_dir)
        if not dry_run:
            for job in jobs:
                await _apply(job, stamp, plan.output)
        return Restored(archive, verified.manifest, [job.step for job in jobs], notes, dry_run)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _select(
    plan: Plan, verified: Verified, names: list[str], *, keys: bool, config: bool
) -> tuple[list[_Job], list[str]]:
    manifest = verified.manifest
    configured = plan.sources
    in_archive = {m.source: m for m in manifest.members if m.kind in ("sqlite", "postgresql") and m.source}
    skipped = {s.name: s.reason for s in manifest.skipped}
    jobs: list[_Job] = []
    notes: list[str] = []
    for name in names:
        if name not in in_archive:
            why = next((r for n, r in skipped.items() if n.startswith(f"sources/{name}.")), None)
            listed = ", ".join(sorted(in_archive)) or "none"
            raise NothingToRestore(
                f"the archive holds no source {name!r}"
                + (f" (the backup skipped it: {why})" if why else "")
                + f"; sources in it: {listed}",
                details={"source": name},
            )
    for name, member in in_archive.items():
        if names and name not in names:
            continue
        here = configured.get(name)
        if here is None or here.engine != member.kind:
            problem = (
                "is not configured here" if here is None else f"is {here.engine} here, {member.kind} in the archive"
            )
            if names:
                message = f"source {name!r} {problem}; configure it, then run the restore again"
                raise NothingToRestore(message, details={"source": name})
            notes.append(f"not restored: source {name!r} {problem}")
            continue
        extracted = verified.extracted(member.name)
        assert extracted is not None
        if member.kind == "sqlite":
            path = here.sqlite_path
            jobs.append(_Job(Step(member, str(path)), extracted, here, path))
        else:
            target = postgres.Target.from_url(here.url)
            jobs.append(_Job(Step(member, f"PostgreSQL database {target.database!r}"), extracted, here))
    for wanted, member_name, known in (
        (keys, KEYS_MEMBER, plan.key_store),
        (config, CONFIG_MEMBER, None),
    ):
        if not wanted:
            continue
        held = manifest.member(member_name)
        if held is None:
            why = f" ({skipped[member_name]})" if member_name in skipped else ""
            message = f"the archive holds no {member_name}{why}"
            if member_name == CONFIG_MEMBER:
                raise NothingToRestore(message)
            notes.append(f"not restored: {message}")
            continue
        path = known or (plan.config_file or Path(held.info["path"])).expanduser().resolve()
        extracted = verified.extracted(member_name)
        assert extracted is not None
        jobs.append(_Job(Step(held, str(path)), extracted, path=path))
    if manifest.member(CONFIG_MEMBER) and not config:
        notes.append("the config file in the archive was not restored (add --with-config to restore it)")
    return jobs, notes


async def _preflight(jobs: list[_Job], *, force: bool, pg_bin_dir: Path | None) -> None:
    tools = postgres.ToolLookup(pg_bin_dir)
    for job in jobs:
        kind = job.step.member.kind
        if kind == "sqlite" and job.path is not None:
            await _refuse_if_held(job, force)
        elif kind == "postgresql" and job.source is not None:
            job.tools = await tools.get()
            await _check_postgres(job, force)


async def _refuse_if_held(job: _Job, force: bool) -> None:
    assert job.path is not None
    files = [job.path, *(Path(f"{job.path}{suffix}") for suffix in sqlite_files.SIDE_FILES)]
    try:
        found = await blocking(lambda: holders(files))
    except CannotCheck as exc:
        if not force:
            raise DatabaseInUse(
                f"cannot tell whether a running server holds {job.path} ({exc}); stop the server, then run the "
                "restore again with --force"
            ) from None
        job.step.warning = f"not checked whether a process holds the file: {exc}"
        return
    if found and not force:
        named = ", ".join(str(h) for h in found)
        raise DatabaseInUse(
            f"{job.path} is held open by {named}; stop it first (or use --force)",
            details={"path": str(job.path), "pids": [h.pid for h in found]},
        )
    if found:
        job.step.warning = f"forced while held by {', '.join(str(h) for h in found)}: restart those processes"


async def _check_postgres(job: _Job, force: bool) -> None:
    assert job.source is not None
    member = job.step.member
    if job.tools is None:
        raise BackupFailed(
            "pg_restore is not installed; install the PostgreSQL client tools or set [backup] pg_bin_dir"
        )
    target = postgres.Target.from_url(job.source.url)
    server = await postgres.server_major(target)
    dumped_by = int(member.info.get("pg_dump_major", 0))
    if job.tools.major < max(server, dumped_by):
        raise BackupFailed(
            f"pg_restore {job.tools.major} is older than the server ({server}) or the dump (pg_dump {dumped_by}); "
            "install newer PostgreSQL client tools or set [backup] pg_bin_dir"
        )
    sessions = await postgres.server_sessions(target)
    if sessions and not force:
        named = ", ".join(str(s) for s in sessions)
        raise DatabaseInUse(
            f"running mcp-workbench servers are connected to {target.database!r}: {named}; stop them first "
            "(or use --force)",
            details={"backend_pids": [s.backend_pid for s in sessions]},
        )
    if sessions:
        job.step.warning = f"forced while {len(sessions)} server connection(s) were open"


async def _apply(job: _Job, stamp: str, backups: Path) -> None:
    kind = job.step.member.kind
    if kind == "sqlite":
        assert job.path is not None
        path = job.path
        journal = str(job.step.member.info.get("journal_mode", "wal"))
        swapped = await blocking(lambda: sqlite_files.swap_in(job.extracted, path, stamp=stamp, journal_mode=journal))
        job.step.safety = swapped.safety
    elif kind == "postgresql":
        assert job.source is not None and job.tools is not None
        target = postgres.Target.from_url(job.source.url)
        safety = private_dir(backups) / f"pre-restore-{stamp}-{job.step.member.source}.pgdump"
        await postgres.dump(target, job.tools, safety)
        job.step.safety = [safety]
        await postgres.restore(target, job.tools, job.extracted)
    else:
        assert job.path is not None
        path = job.path
        job.step.safety = await blocking(lambda: _replace_file(job.extracted, path, stamp))
    job.step.done = True


def _replace_file(new: Path, target: Path, stamp: str) -> list[Path]:
    """Put ``new`` in place of ``target`` atomically (0600), keeping the old file beside it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore-{stamp}")
    shutil.copyfile(new, staged)
    sqlite_files.give_to_owner_of(target, staged)
    with staged.open("rb+") as handle:
        os.fsync(handle.fileno())
    safety: list[Path] = []
    if target.exists():
        keep = sqlite_files.safety_name(target, stamp)
        shutil.copy2(target, keep)
        safety.append(keep)
    os.replace(staged, target)
    fsync_dir(target.parent)
    return safety
