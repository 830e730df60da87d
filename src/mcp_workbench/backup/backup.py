"""Taking a backup: snapshot every selected source, the key store and the config file, write
one archive, and keep only the newest ``keep`` archives.

Members are staged in a private directory inside the output directory (so the final rename
stays on one filesystem) and the stage is removed whatever happens. One backup at a time per
output directory: several server processes (``--workers``) or a cron job and a server share
one lock (:mod:`.work`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mcp_workbench import __version__
from mcp_workbench.backup import postgres
from mcp_workbench.backup import sqlite as sqlite_files
from mcp_workbench.backup.archive import (
    Manifest,
    Member,
    Skipped,
    archive_name,
    archives_in,
    gzip_file,
    private_dir,
    sha256_of,
    write_archive,
)
from mcp_workbench.backup.errors import BackupFailed
from mcp_workbench.backup.plan import Plan, Source
from mcp_workbench.backup.work import acquire_lock, blocking, release_lock
from mcp_workbench.platform.keys import STORE_NAME

STAGING_PREFIX = ".staging-"
KEYS_MEMBER = f"keys/{STORE_NAME}"
CONFIG_MEMBER = "config/config.toml"


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    seconds: float
    pruned: list[Path] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


async def take_backup(plan: Plan, *, wait_for_lock_s: float = 600.0) -> BackupResult:
    """Write one archive for ``plan``; raises :class:`BackupFailed` (nothing is left behind),
    or :class:`~mcp_workbench.backup.work.Busy` when another process keeps the lock."""
    started = time.monotonic()
    if plan.output.exists() and not plan.output.is_dir():
        raise BackupFailed(
            f"the backup directory {plan.output} is a file; name a directory (--output, [backup] output)"
        )
    private_dir(plan.output)
    lock = await blocking(lambda: acquire_lock(plan.output, wait_s=wait_for_lock_s))
    cancel = threading.Event()
    try:
        _remove_stale_stages(plan.output)
        now = datetime.now(UTC)
        stage = private_dir(plan.output / f"{STAGING_PREFIX}{now.strftime('%Y%m%dT%H%M%S%f')}")
        try:
            members, skipped, staged = await _collect(plan, stage, cancel)
            manifest = Manifest(
                members=members,
                skipped=skipped,
                version=__version__,
                created_at=now.isoformat(timespec="milliseconds"),
                host=socket.gethostname(),
            )
            dest = plan.output / archive_name(now)
            await blocking(lambda: write_archive(dest, manifest, staged))
            pruned = prune(plan.output, plan.keep)
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        release_lock(lock)
    return BackupResult(dest, manifest, time.monotonic() - started, pruned)


def _remove_stale_stages(output: Path) -> None:
    """Stages left by a process that died mid-backup (we hold the lock: none is in use)."""
    for entry in output.iterdir():
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


async def _collect(
    plan: Plan, stage: Path, cancel: threading.Event
) -> tuple[list[Member], list[Skipped], dict[str, Path]]:
    members: list[Member] = []
    skipped: list[Skipped] = []
    staged: dict[str, Path] = {}
    tools = postgres.ToolLookup(plan.pg_bin_dir)
    for source in plan.sources.values():
        if source.engine == "sqlite":
            found = await _sqlite_member(source, stage, cancel)
        else:
            found = await _postgres_member(source, stage, await tools.get())
        if isinstance(found, Skipped):
            skipped.append(found)
        else:
            members.append(found[0])
            staged[found[0].name] = found[1]
    for member, path in (_keys_member(plan.key_store, stage), _config_member(plan.config_file, stage)):
        if isinstance(member, Skipped):
            skipped.append(member)
        elif path is not None:
            members.append(member)
            staged[member.name] = path
    return members, skipped, staged


async def _sqlite_member(source: Source, stage: Path, cancel: threading.Event) -> tuple[Member, Path] | Skipped:
    name = source.name
    member_name = f"sources/{name}.sqlite.gz"
    path = source.sqlite_path
    if not path.is_file():
        return Skipped(member_name, "sqlite", f"{path} does not exist yet (nothing has been written to it)")
    snapshot = stage / f"{name}.sqlite"
    packed = stage / f"{name}.sqlite.gz"

    def work() -> dict[str, object]:
        info = sqlite_files.snapshot(path, snapshot, read_only=source.read_only)
        gzip_file(snapshot, packed, cancel.is_set)
        snapshot.unlink()
        return info

    info = await blocking(work)
    return Member(member_name, "sqlite", sha256_of(packed), packed.stat().st_size, name, "gzip", info), packed


async def _postgres_member(source: Source, stage: Path, tools: postgres.Tools | None) -> tuple[Member, Path] | Skipped:
    name = source.name
    member_name = f"sources/{name}.pgdump"
    target = postgres.Target.from_url(source.url)
    server = await postgres.server_major(target)
    if tools is None:
        return Skipped(
            member_name,
            "postgresql",
            f"pg_dump is not installed; install the PostgreSQL {server} client tools (Debian: "
            f"postgresql-client-{server}) or set [backup] pg_bin_dir",
        )
    if tools.major < server:
        return Skipped(
            member_name,
            "postgresql",
            f"pg_dump {tools.major} ({tools.pg_dump}) is older than the server ({server}); install the "
            f"PostgreSQL {server} client tools or set [backup] pg_bin_dir",
        )
    dest = stage / f"{name}.pgdump"
    await postgres.dump(target, tools, dest)
    info = {"server_major": server, "pg_dump_major": tools.major, "database": target.database}
    return Member(member_name, "postgresql", await blocking(lambda: sha256_of(dest)), dest.stat().st_size, name,
                  "raw", info), dest  # fmt: skip


def _keys_member(store: Path, stage: Path) -> tuple[Member | Skipped, Path | None]:
    try:
        raw = store.read_bytes()
    except FileNotFoundError:
        return Skipped(KEYS_MEMBER, "keys", f"{store} does not exist (no API key was created)"), None
    try:
        count = len(json.loads(raw or b"{}").get("keys", []))
    except (ValueError, AttributeError) as exc:
        raise BackupFailed(f"the key store {store} does not read as JSON: {exc}") from None
    dest = stage / STORE_NAME
    _write_private(dest, raw)
    info = {"path": str(store), "keys": count}
    return Member(KEYS_MEMBER, "keys", sha256_of(dest), len(raw), None, "raw", info), dest


def _config_member(config_file: Path | None, stage: Path) -> tuple[Member | Skipped, Path | None]:
    if config_file is None:
        return Skipped(CONFIG_MEMBER, "config", "no config file is in use (defaults and environment only)"), None
    try:
        raw = config_file.read_bytes()
    except FileNotFoundError:
        return Skipped(CONFIG_MEMBER, "config", f"{config_file} does not exist"), None
    dest = stage / "config.toml"
    _write_private(dest, raw)
    info = {"path": str(config_file.expanduser().resolve())}
    return Member(CONFIG_MEMBER, "config", sha256_of(dest), len(raw), None, "raw", info), dest


def _write_private(path: Path, data: bytes) -> None:
    from mcp_workbench.backup.archive import open_private

    with open_private(path) as handle:
        handle.write(data)


def prune(output: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives; returns what went."""
    archives = archives_in(output)
    gone = archives[: max(0, len(archives) - keep)]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone
