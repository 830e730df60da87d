"""The archive: one uncompressed tar holding ``manifest.json`` first, then one file per member.

Members that compress well (SQLite snapshots) are gzip-compressed one by one, so the tar's
own structure stays plain: damage stays inside the member it hits, and the manifest's sha256
of each member's stored bytes names that member. The manifest records the product version,
the time, each member's checksum, source name and schema versions, and what was skipped and why.

Archives are written to a temporary file in the output directory, fsync'd and renamed into
place, so a half-written archive never carries an archive's name; files are mode 0600 and the
directory 0700.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mcp_workbench.backup.errors import ArchiveDamaged

FORMAT = 1
PRODUCT = "mcp-workbench"
MANIFEST_NAME = "manifest.json"
ARCHIVE_PATTERN = re.compile(r"^workbench-(\d{8}T\d{6})(\d{3})Z\.tar$")
CHUNK = 1 << 20
KINDS = ("sqlite", "postgresql", "keys", "config")


@dataclass
class Member:
    """One file in the archive. ``sha256`` and ``size`` are of the stored bytes."""

    name: str
    kind: str
    sha256: str
    size: int
    source: str | None = None
    encoding: str = "raw"  # or "gzip"
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Skipped:
    """Something a backup left out, and why (a missing tool, a file that does not exist yet)."""

    name: str
    kind: str
    reason: str


@dataclass
class Manifest:
    members: list[Member]
    skipped: list[Skipped]
    version: str
    created_at: str
    format: int = FORMAT
    product: str = PRODUCT
    host: str = ""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("product") != PRODUCT or not isinstance(data.get("format"), int):
                raise ValueError("not an mcp-workbench manifest")
            if data["format"] > FORMAT:
                raise ValueError(f"archive format {data['format']} is newer than this version reads ({FORMAT})")
            return cls(
                members=[Member(**m) for m in data["members"]],
                skipped=[Skipped(**s) for s in data.get("skipped", [])],
                version=data["version"],
                created_at=data["created_at"],
                format=data["format"],
                product=data["product"],
                host=data.get("host", ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ArchiveDamaged(f"the manifest cannot be read: {exc}", member=MANIFEST_NAME) from None

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)


def archive_name(when: datetime) -> str:
    return f"workbench-{when.strftime('%Y%m%dT%H%M%S')}{when.microsecond // 1000:03d}Z.tar"


def archive_time(path: Path) -> float | None:
    """The time an archive was taken, from its name (None: not one of ours)."""
    match = ARCHIVE_PATTERN.match(path.name)
    if match is None:
        return None
    when = datetime.strptime(match[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return when.timestamp() + int(match[2]) / 1000


def archives_in(directory: Path) -> list[Path]:
    """Our archives in ``directory``, oldest first."""
    try:
        found = [p for p in directory.iterdir() if ARCHIVE_PATTERN.match(p.name) and p.is_file()]
    except FileNotFoundError:
        return []
    return sorted(found, key=lambda p: p.name)


def private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if needed and return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        path.chmod(0o700)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def gzip_file(source: Path, dest: Path, cancelled: Callable[[], bool] = lambda: False) -> None:
    """Compress ``source`` into ``dest`` (level 1: the archive is written while the server serves)."""
    import gzip

    with (
        source.open("rb") as src,
        open_private(dest) as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as out,
    ):
        while chunk := src.read(CHUNK):
            if cancelled():
                raise InterruptedError("backup cancelled")
            out.write(chunk)


def open_private(path: Path) -> IO[bytes]:
    """A new file only its owner can read (created 0600, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_archive(dest: Path, manifest: Manifest, staged: dict[str, Path]) -> None:
    """Write the tar: manifest first, then each staged member, atomically at ``dest``."""
    fd, tmp = tempfile.mkstemp(prefix=".workbench-", suffix=".tar.tmp", dir=dest.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar:
                body = manifest.to_json()
                tar.addfile(_info(MANIFEST_NAME, len(body)), io.BytesIO(body))
                for member in manifest.members:
                    path = staged[member.name]
                    with path.open("rb") as data:
                        tar.addfile(_info(member.name, path.stat().st_size), data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    return info


class _Hashing(io.RawIOBase):
    """Reads through ``source``, hashing every byte; :meth:`drain` reads what the consumer left."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._source.read(len(buffer))
        self.digest.update(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def drain(self) -> None:
        while chunk := self._source.read(CHUNK):
            self.digest.update(chunk)


MemberSink = Callable[[Member, IO[bytes]], None]
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError, ValueError)


def read_archive(path: Path, sink: MemberSink) -> Manifest:
    """Read the archive in one pass, checking every member against the manifest.

    ``sink(member, stream)`` consumes each member's stored bytes (it may stop early); whatever
    it leaves is read too, so each checksum covers the whole member. A member that is missing,
    unlisted, truncated or whose checksum differs raises :class:`ArchiveDamaged` naming it; so
    does an error the sink raises (a gzip stream that does not decompress, say).
    """
    manifest: Manifest | None = None
    seen: set[str] = set()
    reading = [MANIFEST_NAME]  # the member being read, for messages
    try:
        with tarfile.open(path, mode="r|") as tar:
            for info in _members(tar, reading):
                reading[0] = info.name
                stream = tar.extractfile(info) if info.isfile() else None
                if stream is None:
                    raise ArchiveDamaged(f"member {info.name!r} is not a regular file", member=info.name)
                if manifest is None:
                    if info.name != MANIFEST_NAME:
                        raise ArchiveDamaged(
                            f"the archive does not start with {MANIFEST_NAME} (found {info.name!r}): "
                            "it is not an mcp-workbench backup, or it is damaged",
                            member=MANIFEST_NAME,
                        )
                    manifest = Manifest.from_json(stream.read())
                    continue
                _check_member(manifest, info, stream, seen, sink)
    except ArchiveDamaged:
        raise
    except _READ_ERRORS as exc:
        if _system_error(exc):
            raise
        raise ArchiveDamaged(f"the archive is damaged at member {reading[0]!r}: {exc}", member=reading[0]) from None
    if manifest is None:
        raise ArchiveDamaged("the archive is empty: it has no manifest", member=MANIFEST_NAME)
    missing = [m.name for m in manifest.members if m.name not in seen]
    if missing:
        raise ArchiveDamaged(
            f"member {missing[0]!r} is listed in the manifest but missing from the archive: the archive is "
            "truncated or damaged there",
            member=missing[0],
        )
    return manifest


def _members(tar: tarfile.TarFile, reading: list[str]) -> Iterator[tarfile.TarInfo]:
    """The tar's members; a damaged header names the member it follows."""
    while True:
        try:
            info = tar.next()
        except tarfile.TarError as exc:
            after = reading[0]
            raise ArchiveDamaged(
                f"the archive is damaged after member {after!r} (a tar header does not read: {exc})", member=after
            ) from None
        if info is None:
            return
        yield info


def _check_member(
    manifest: Manifest, info: tarfile.TarInfo, stream: IO[bytes], seen: set[str], sink: MemberSink
) -> None:
    member = manifest.member(info.name)
    if member is None or info.name in seen:
        raise ArchiveDamaged(f"member {info.name!r} is not listed in the manifest", member=info.name)
    seen.add(info.name)
    if info.size != member.size:
        raise ArchiveDamaged(
            f"member {info.name!r} has {info.size} bytes, the manifest says {member.size}", member=info.name
        )
    hashing = _Hashing(stream)
    buffered = io.BufferedReader(hashing, CHUNK)
    failure: BaseException | None = None
    try:
        sink(member, buffered)
    except ArchiveDamaged:
        raise
    except _READ_ERRORS as exc:  # the checksum decides below whether the bytes or the content is at fault
        if _system_error(exc):
            raise
        failure = exc
    hashing.drain()  # the buffered reader may hold bytes it read ahead: they were hashed already
    if hashing.digest.hexdigest() != member.sha256:
        raise ArchiveDamaged(
            f"member {info.name!r} is damaged: its sha256 differs from the manifest's", member=info.name
        )
    if failure is not None:
        raise ArchiveDamaged(f"member {info.name!r} does not read: {failure}", member=info.name)


def _system_error(exc: BaseException) -> bool:
    """An error of the system (a missing file, a full disk), not of the archive's bytes."""
    return isinstance(exc, OSError) and exc.errno is not None
