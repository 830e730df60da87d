"""Checking an archive without restoring it: every member's checksum, then what each holds.

- SQLite snapshots are decompressed and must pass ``PRAGMA integrity_check``;
- PostgreSQL dumps must list with ``pg_restore --list`` (when pg_restore is installed; the
  report says when it is not);
- the key store must read as the store's JSON, the config file as TOML.

A restore runs the same checks first, on the copies it then puts in place.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tomllib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from mcp_workbench.backup import postgres
from mcp_workbench.backup.archive import CHUNK, Manifest, Member, MemberSink, read_archive
from mcp_workbench.backup.errors import ArchiveDamaged, BackupFailed
from mcp_workbench.backup.sqlite import integrity_problems
from mcp_workbench.backup.work import blocking


@dataclass
class Checked:
    member: Member
    result: str
    extracted: Path | None = None


@dataclass
class Verified:
    path: Path
    manifest: Manifest
    checked: list[Checked] = field(default_factory=list)

    def extracted(self, name: str) -> Path | None:
        return next((c.extracted for c in self.checked if c.member.name == name), None)


def _extract_to(scratch: Path) -> tuple[dict[str, Path], MemberSink]:
    extracted: dict[str, Path] = {}

    def sink(member: Member, stream: IO[bytes]) -> None:
        dest = scratch / member.name.replace("/", "__").removesuffix(".gz")
        source: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=stream, mode="rb") if member.encoding == "gzip" else stream
        )
        with dest.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        dest.chmod(0o600)
        extracted[member.name] = dest

    return extracted, sink


async def verify_archive(archive: Path, scratch: Path, *, pg_bin_dir: Path | None = None) -> Verified:
    """Check ``archive`` member by member, extracting into ``scratch`` (a private directory the
    caller removes). Raises :class:`ArchiveDamaged` naming the first member that fails."""
    if not await blocking(archive.is_file):
        raise ArchiveDamaged(f"{archive} is not a file")
    extracted, sink = _extract_to(scratch)
    manifest = await blocking(lambda: read_archive(archive, sink))
    verified = Verified(archive, manifest)
    tools = postgres.ToolLookup(pg_bin_dir)
    for member in manifest.members:
        path = extracted[member.name]
        if member.kind == "sqlite":
            problems = await blocking(partial(integrity_problems, path))
            if problems:
                raise ArchiveDamaged(
                    f"member {member.name!r} fails PRAGMA integrity_check: {'; '.join(problems)}", member=member.name
                )
            result = "integrity_check ok"
        elif member.kind == "postgresql":
            result = await _check_dump(member, path, await tools.get())
        elif member.kind == "keys":
            result = _check_keys(member, path)
        elif member.kind == "config":
            result = _check_config(member, path)
        else:
            raise ArchiveDamaged(f"member {member.name!r} is of unknown kind {member.kind!r}", member=member.name)
        verified.checked.append(Checked(member, result, path))
    return verified


async def _check_dump(member: Member, path: Path, tools: postgres.Tools | None) -> str:
    if tools is None:
        return "checksum ok; contents not checked: pg_restore is not installed"
    try:
        await postgres.listable(tools, path)
    except BackupFailed as exc:
        message = f"member {member.name!r} does not read as a dump: {exc.message}"
        raise ArchiveDamaged(message, member=member.name) from None
    return f"pg_restore {tools.major} --list ok"


def _check_keys(member: Member, path: Path) -> str:
    try:
        keys = json.loads(path.read_bytes() or b"{}")["keys"]
        if not isinstance(keys, list) or not all(isinstance(k, dict) and "id" in k and "hash" in k for k in keys):
            raise ValueError("'keys' is not a list of key records")
    except (ValueError, KeyError, TypeError) as exc:
        raise ArchiveDamaged(f"member {member.name!r} is not a key store: {exc}", member=member.name) from None
    return f"{len(keys)} key record(s)"


def _check_config(member: Member, path: Path) -> str:
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveDamaged(f"member {member.name!r} is not valid TOML: {exc}", member=member.name) from None
    return "TOML ok"
