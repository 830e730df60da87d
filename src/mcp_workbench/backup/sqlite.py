"""SQLite files: a consistent snapshot while the server writes, and a restore swapped into place.

The snapshot uses the online backup API in one step: it copies the database as of one read
transaction, so it holds every transaction committed before the backup began and none half
done. In WAL mode a reader blocks no writer, so the server keeps writing meanwhile (a stepped
copy would restart at every write by another connection and might never finish). The copy is
switched to a rollback journal, so it is one self-contained file, and it counts only once
``PRAGMA integrity_check`` says ``ok``.

A restore keeps the file it replaces: the old database is hard-linked to
``NAME.pre-restore-STAMP`` and its ``-wal`` (which holds the newest commits until a checkpoint)
moves beside it as ``NAME.pre-restore-STAMP-wal``, so SQLite opens the safety copy with its
own log. Only then is the restored file renamed over the database: a stale ``-wal`` or
``-shm`` left beside the new file would be replayed into it. The journal mode is then set back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_workbench.backup.archive import fsync_dir
from mcp_workbench.backup.errors import BackupFailed

SIDE_FILES = ("-wal", "-shm", "-journal")
BUSY_TIMEOUT_MS = 30_000
INTEGRITY_PROBLEMS_SHOWN = 5


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.as_uri()}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def describe(conn: sqlite3.Connection) -> dict[str, Any]:
    """The facts a manifest records of one database."""

    def pragma(name: str) -> Any:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]

    return {
        "schema_version": pragma("schema_version"),
        "user_version": pragma("user_version"),
        "page_size": pragma("page_size"),
        "page_count": pragma("page_count"),
        "tables": conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0],
    }


def integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` finds in ``path`` (empty when it says ``ok``)."""
    try:
        conn = _connect(path, "ro")
        try:
            rows = [row[0] for row in conn.execute(f"PRAGMA integrity_check({INTEGRITY_PROBLEMS_SHOWN})")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def snapshot(source: Path, dest: Path, *, read_only: bool) -> dict[str, Any]:
    """Copy ``source`` to the new file ``dest`` consistently; return what the manifest records.
    Raises :class:`BackupFailed` when the source cannot be read or the copy is not intact."""
    try:
        src = _connect(source, "ro" if read_only else "rw")
        try:
            journal_mode = src.execute("PRAGMA journal_mode").fetchone()[0]
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            out = _connect(dest, "rw")
            try:
                src.backup(out)
                out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                info = describe(out)
            finally:
                out.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"the SQLite file {source} cannot be copied: {exc}") from None
    problems = integrity_problems(dest)
    if problems:
        raise BackupFailed(f"the snapshot of {source} fails its integrity check: {'; '.join(problems)}")
    return {**info, "journal_mode": journal_mode, "path": str(source)}


@dataclass
class Swapped:
    """What a restore did to one file: where the replaced one (and its log) was kept."""

    target: Path
    safety: list[Path] = field(default_factory=list)


def safety_name(target: Path, stamp: str) -> Path:
    return target.with_name(f"{target.name}.pre-restore-{stamp}")


def swap_in(restored: Path, target: Path, *, stamp: str, journal_mode: str) -> Swapped:
    """Put ``restored`` (a checked database file) in place of ``target``, keeping the old one."""
    result = Swapped(target)
    staged = target.with_name(f".{target.name}.restore-{stamp}")
    _copy_or_move(restored, staged)
    _set_journal_mode(staged, journal_mode)
    give_to_owner_of(target, staged)
    keep = safety_name(target, stamp)
    if target.exists():
        try:
            os.link(target, keep)
        except OSError:  # a filesystem without hard links
            shutil.copy2(target, keep)
        result.safety.append(keep)
    for suffix in SIDE_FILES:
        side = Path(f"{target}{suffix}")
        if side.exists():
            if suffix == "-shm":  # only an index of the log, rebuilt from it: nothing to keep
                side.unlink()
                continue
            moved = Path(f"{keep}{suffix}")
            os.replace(side, moved)
            result.safety.append(moved)
    os.replace(staged, target)
    fsync_dir(target.parent)
    return result


def _set_journal_mode(path: Path, journal_mode: str) -> None:
    mode = journal_mode.upper() if journal_mode.upper() in {"WAL", "DELETE", "TRUNCATE", "PERSIST"} else "WAL"
    conn = _connect(path, "rw")
    try:
        conn.execute(f"PRAGMA journal_mode = {mode}")
    finally:
        conn.close()


def _copy_or_move(source: Path, dest: Path) -> None:
    try:
        os.replace(source, dest)
    except OSError:  # another filesystem
        shutil.copyfile(source, dest)
    os.chmod(dest, 0o600)
    with dest.open("rb+") as handle:
        os.fsync(handle.fileno())


def give_to_owner_of(target: Path, path: Path) -> None:
    """Make ``path`` (about to replace ``target``) mode 0600 and, when we are root, owned like
    the file it replaces, else like its directory: a restore run as root must not leave a file
    the service's own user cannot write."""
    os.chmod(path, 0o600)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    try:
        st = target.stat()
    except FileNotFoundError:
        st = target.parent.stat()
    os.chown(path, st.st_uid, st.st_gid)
