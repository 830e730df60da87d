"""PostgreSQL sources: ``pg_dump -Fc`` to back up, ``pg_restore`` to restore.

pg_dump refuses, or writes a dump an older server cannot take, when it is older than the
server; so each source's server version is asked first and a pg_dump that is missing or older
is a reason to skip the source (listed in the manifest), not a failure of the whole backup.
The newest client found is used: ``[backup] pg_bin_dir``, else the newest
``/usr/lib/postgresql/*/bin`` (Debian, Ubuntu), else ``PATH``.

The password never appears on a command line (other users can read those): it goes to the
tools in ``PGPASSWORD``. The server's own connections carry ``application_name`` =
``mcp-workbench``; a restore looks for them in ``pg_stat_activity`` and refuses while any is
open, naming the backend and client.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from mcp_workbench.backup.errors import BackupFailed

SERVER_APPLICATION = "mcp-workbench"
OWN_APPLICATION = "mcp-workbench-backup"
CONNECT_TIMEOUT_S = 10.0
_SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
_VERSION = re.compile(r"\)\s*(\d+)(?:\.(\d+))?")
_LIBPQ_PARAMS = frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "target_session_attrs", "options"})


@dataclass(frozen=True)
class Tools:
    """A pg_dump and pg_restore of one major version."""

    bin_dir: Path
    major: int

    @property
    def pg_dump(self) -> Path:
        return self.bin_dir / "pg_dump"

    @property
    def pg_restore(self) -> Path:
        return self.bin_dir / "pg_restore"


def parse_version(text: str) -> int | None:
    """The major version in ``pg_dump (PostgreSQL) 15.18 (Debian ...)`` (9.6 counts as 9)."""
    match = _VERSION.search(text)
    return int(match[1]) if match else None


async def _tool_major(binary: Path) -> int | None:
    try:
        proc = await asyncio.create_subprocess_exec(
            str(binary),
            "--version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError):
        return None
    return parse_version(out.decode(errors="replace")) if proc.returncode == 0 else None


def _candidate_dirs(bin_dir: Path | None) -> list[Path]:
    if bin_dir is not None:
        return [bin_dir]
    found = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.is_dir()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1,
        reverse=True,
    )
    on_path = shutil.which("pg_dump")
    if on_path:
        found.append(Path(on_path).parent)
    return found


async def find_tools(bin_dir: Path | None) -> Tools | None:
    """The newest pg_dump/pg_restore pair found, or None."""
    best: Tools | None = None
    for directory in _candidate_dirs(bin_dir):
        if not (directory / "pg_dump").is_file() or not (directory / "pg_restore").is_file():
            continue
        major = await _tool_major(directory / "pg_dump")
        if major is not None and (best is None or major > best.major):
            best = Tools(directory, major)
    return best


class ToolLookup:
    """:func:`find_tools`, run once, when the first PostgreSQL member needs it."""

    def __init__(self, bin_dir: Path | None) -> None:
        self._bin_dir = bin_dir
        self._looked = False
        self._tools: Tools | None = None

    async def get(self) -> Tools | None:
        if not self._looked:
            self._tools = await find_tools(self._bin_dir)
            self._looked = True
        return self._tools


@dataclass(frozen=True)
class Target:
    """How to reach one PostgreSQL database, from a source URL."""

    host: str | None
    port: int | None
    user: str | None
    password: str | None
    database: str
    params: dict[str, str]

    @classmethod
    def from_url(cls, url: str) -> Target:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        params = {k: str(v) for k, v in parsed.query.items() if k in _LIBPQ_PARAMS}
        return cls(parsed.host, parsed.port, parsed.username, parsed.password, parsed.database or "", params)

    def conninfo(self) -> str:
        """A libpq connection string without the password."""
        parts = {"dbname": self.database, "host": self.host, "port": self.port, "user": self.user, **self.params}
        return " ".join(f"{k}={_quote(str(v))}" for k, v in parts.items() if v not in (None, ""))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGAPPNAME"] = OWN_APPLICATION
        env["PGCONNECT_TIMEOUT"] = str(int(CONNECT_TIMEOUT_S))
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    async def connect(self) -> Any:
        import asyncpg

        # asyncpg checks the mode itself (an unknown one is a ClientConfigurationError naming the
        # allowed ones); its stubs take only the known literals
        ssl = cast("_SslMode | None", self.params.get("sslmode"))
        return await asyncpg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database,
            timeout=CONNECT_TIMEOUT_S,
            ssl=ssl if ssl and ssl != "disable" else None,
            server_settings={"application_name": OWN_APPLICATION},
        )


def _quote(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def server_major(target: Target) -> int:
    import asyncpg

    try:
        conn = await target.connect()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise BackupFailed(f"PostgreSQL database {target.database!r} cannot be reached: {exc}") from None
    try:
        number = int(await conn.fetchval("SHOW server_version_num"))
    finally:
        await conn.close()
    return number // 10_000


@dataclass(frozen=True)
class Session:
    """A server's connection to the database, as pg_stat_activity shows it."""

    backend_pid: int
    client: str

    def __str__(self) -> str:
        return f"PostgreSQL backend pid {self.backend_pid} (client {self.client})"


async def server_sessions(target: Target) -> list[Session]:
    """Connections of running mcp-workbench servers to ``target``'s database."""
    conn = await target.connect()
    try:
        rows = await conn.fetch(
            "SELECT pid, coalesce(host(client_addr), 'local socket') AS client FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()",
            SERVER_APPLICATION,
        )
    finally:
        await conn.close()
    return [Session(row["pid"], row["client"]) for row in rows]


async def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        raise BackupFailed(f"{what} failed (exit {proc.returncode}): {err.decode(errors='replace').strip()[:2000]}")
    return out.decode(errors="replace")


async def dump(target: Target, tools: Tools, dest: Path) -> None:
    """``pg_dump -Fc`` of the whole database into the new file ``dest`` (0600)."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    await _run(
        [str(tools.pg_dump), "--format=custom", "--no-password", f"--file={dest}", f"--dbname={target.conninfo()}"],
        target.env(),
        f"pg_dump of {target.database!r}",
    )


async def listable(tools: Tools, dump_file: Path) -> None:
    """Check that pg_restore can read the dump's table of contents (raises BackupFailed)."""
    await _run([str(tools.pg_restore), "--list", str(dump_file)], dict(os.environ), "pg_restore --list")


async def restore(target: Target, tools: Tools, dump_file: Path) -> None:
    """Replace the database's objects with the dump's, in one transaction (all or nothing)."""
    await _run(
        [
            str(tools.pg_restore),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={target.conninfo()}",
            str(dump_file),
        ],
        target.env(),
        f"pg_restore into {target.database!r}",
    )
