"""A real, throwaway PostgreSQL server for tests.

Load as a pytest plugin (``pytest_plugins = ["tests.support.postgres"]``) to get:

- ``postgres_server`` (session): the running :class:`PostgresServer`; a fault test can
  ``stop_server()`` it mid-session and ``start_server()`` it again on the same port and data dir.
- ``postgres_url`` (session): ``postgresql://postgres@127.0.0.1:PORT/workbench``.
- ``postgres_db_url`` (function): a fresh database ``wb_<random>`` per test, dropped afterwards.

Or use it from plain Python::

    with PostgresServer() as pg:
        print(pg.url)
        pg.stop_server()      # PostgreSQL goes away (connections break)
        pg.start_server()     # back on the same port, same data

The server binaries (initdb, pg_ctl, postgres, psql) come from ``$WORKBENCH_TEST_PG_BINDIR``,
else the newest ``/usr/lib/postgresql/<version>/bin`` (Debian/Ubuntu layout), else ``PATH``.
When they are missing the fixtures skip, or fail when ``CI=true``.

PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
unprivileged ``postgres`` OS user (created by the Debian package), or as a system user this module
creates if that does not exist. It listens on 127.0.0.1 only, on a free port, with its unix socket
inside its temporary directory, trust authentication, and fsync off. Nothing is written to stdout.
"""

from __future__ import annotations

import atexit
import logging
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest

__all__ = [
    "PostgresBinaries",
    "PostgresError",
    "PostgresNotAvailable",
    "PostgresServer",
    "find_postgres_binaries",
    "postgres_db_url",
    "postgres_server",
    "postgres_url",
]

log = logging.getLogger(__name__)

BINDIR_ENV = "WORKBENCH_TEST_PG_BINDIR"
DEFAULT_SUPERUSER = "postgres"
DEFAULT_DATABASE = "workbench"
FALLBACK_OS_USER = "workbench-pg"
# OS accounts to run PostgreSQL as when we are root, in order of preference
OS_USER_CANDIDATES = ("postgres", FALLBACK_OS_USER)
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresError(RuntimeError):
    """PostgreSQL could not be initialised, started, stopped or queried."""


class PostgresNotAvailable(PostgresError):
    """The PostgreSQL server binaries are not installed."""


@dataclass(frozen=True)
class PostgresBinaries:
    bindir: Path
    initdb: Path
    pg_ctl: Path
    postgres: Path
    psql: Path

    @property
    def version(self) -> str:
        out = subprocess.run(
            [str(self.postgres), "--version"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return out.strip()


def _version_key(path: Path) -> tuple[int, ...]:
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts) or (-1,)


def _binaries_in(bindir: Path) -> PostgresBinaries | None:
    names = ("initdb", "pg_ctl", "postgres", "psql")
    paths = [bindir / n for n in names]
    if all(p.is_file() and os.access(p, os.X_OK) for p in paths):
        return PostgresBinaries(bindir, *paths)
    return None


def find_postgres_binaries() -> PostgresBinaries:
    """Locate initdb/pg_ctl/postgres/psql; raise :class:`PostgresNotAvailable` if absent."""
    tried: list[str] = []
    env_dir = os.environ.get(BINDIR_ENV)
    if env_dir:
        found = _binaries_in(Path(env_dir))
        if found:
            return found
        tried.append(f"${BINDIR_ENV}={env_dir}")
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.is_dir()),
        key=_version_key,
        reverse=True,
    )
    for bindir in candidates:
        found = _binaries_in(bindir)
        if found:
            return found
        tried.append(str(bindir))
    tried.append("/usr/lib/postgresql/*/bin")
    on_path = shutil.which("pg_ctl")
    if on_path:
        found = _binaries_in(Path(on_path).resolve().parent)
        if found:
            return found
        # initdb/postgres are sometimes not next to a pg_ctl wrapper on PATH
        bins = [shutil.which(n) for n in ("initdb", "pg_ctl", "postgres", "psql")]
        if all(bins):
            return PostgresBinaries(Path(on_path).parent, *(Path(b) for b in bins))  # type: ignore[arg-type]
    tried.append("PATH")
    raise PostgresNotAvailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found in "
        + ", ".join(tried)
        + ". Install them (Debian: apt-get install postgresql) or set "
        + f"{BINDIR_ENV} to their directory."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _world_traversable(path: Path) -> bool:
    """Every ancestor of `path` can be entered by an arbitrary other user."""
    for p in [path, *path.parents]:
        try:
            if not p.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _ensure_os_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run PostgreSQL as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in OS_USER_CANDIDATES:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    useradd = shutil.which("useradd")
    if not useradd:
        raise PostgresError(
            "running as root, no 'postgres' OS user and no useradd to create "
            f"{FALLBACK_OS_USER!r}; PostgreSQL refuses to run as root"
        )
    proc = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", FALLBACK_OS_USER],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode not in (0, 9):  # 9: already exists (a concurrent run created it)
        raise PostgresError(f"useradd {FALLBACK_OS_USER} failed: {proc.stderr.strip()}")
    return pwd.getpwnam(FALLBACK_OS_USER)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary directory.

    ``start()`` runs initdb and starts the server; ``stop()`` stops it and deletes everything.
    In between, ``stop_server()`` / ``start_server()`` / ``restart()`` stop and start the same
    cluster (same port, same data directory) to simulate an outage.
    """

    def __init__(
        self,
        *,
        database: str = DEFAULT_DATABASE,
        superuser: str = DEFAULT_SUPERUSER,
        port: int | None = None,
        binaries: PostgresBinaries | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not _NAME_RE.match(database) or not _NAME_RE.match(superuser):
            raise ValueError("database and superuser must be simple lower-case identifiers")
        self.database = database
        self.superuser = superuser
        self._requested_port = port
        self._binaries = binaries
        self._parent_dir = Path(base_dir) if base_dir else None
        self.port: int | None = None
        self.base_dir: Path | None = None
        self._os_user: pwd.struct_passwd | None = None
        self._initialised = False
        self._atexit_registered = False

    # -- paths and URLs ------------------------------------------------------------------

    @property
    def binaries(self) -> PostgresBinaries:
        if self._binaries is None:
            self._binaries = find_postgres_binaries()
        return self._binaries

    @property
    def data_dir(self) -> Path:
        return self._require_base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_base() / "sock"

    @property
    def log_file(self) -> Path:
        return self._require_base() / "postgres.log"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """URL of the default database, e.g. ``postgresql://postgres@127.0.0.1:PORT/workbench``."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        if self.port is None:
            raise PostgresError("server not started")
        return f"postgresql://{self.superuser}@{self.host}:{self.port}/{database}"

    def _require_base(self) -> Path:
        if self.base_dir is None:
            raise PostgresError("server not started")
        return self.base_dir

    # -- running commands ----------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PG") and k not in {"LANG", "LANGUAGE"} and not k.startswith("LC_")
        }
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        if self._os_user is not None:
            env["HOME"] = str(self._require_base())
            env["USER"] = env["LOGNAME"] = self._os_user.pw_name
        return env

    def _run_as_owner(
        self, argv: list[str], *, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self._os_user is not None:
            kwargs = {
                "user": self._os_user.pw_uid,
                "group": self._os_user.pw_gid,
                "extra_groups": [],
            }
        try:
            proc = subprocess.run(
                argv,
                env=self._env(),
                cwd=self._require_base(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                **kwargs,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresError(f"timed out after {timeout}s: {' '.join(argv)}\n{self._log_tail()}") from exc
        if check and proc.returncode != 0:
            raise PostgresError(
                f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout}{proc.stderr}\n{self._log_tail()}"
            )
        return proc

    def _log_tail(self, limit: int = 4000) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except (OSError, PostgresError):
            return ""
        return "--- postgres.log (tail) ---\n" + text[-limit:]

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """initdb a fresh cluster, start it and create the default database."""
        if self._initialised:
            if not self.is_running():
                self.start_server()
            return self
        binaries = self.binaries  # raises PostgresNotAvailable early
        self._os_user = _ensure_os_user()
        parent = self._parent_dir
        if parent is None:
            parent = Path(tempfile.gettempdir())
            if self._os_user is not None and not _world_traversable(parent):
                parent = Path("/tmp")
        # keep the path short: the unix socket path must stay under ~107 bytes
        self.base_dir = Path(tempfile.mkdtemp(prefix="wbpg-", dir=parent))
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self.socket_dir.mkdir(mode=0o700)
            if self._os_user is not None:
                for p in (self.base_dir, self.socket_dir):
                    os.chown(p, self._os_user.pw_uid, self._os_user.pw_gid)
            self._run_as_owner(
                [
                    str(binaries.initdb),
                    "--pgdata", str(self.data_dir),
                    "--username", self.superuser,
                    "--auth", "trust",
                    "--encoding", "UTF8",
                    "--locale", "C",
                    "--no-sync",
                ]
            )  # fmt: skip
            self._initialised = True
            attempts = 1 if self._requested_port else 5
            for attempt in range(attempts):
                self.port = self._requested_port or _free_port()
                self._write_config()
                try:
                    self.start_server()
                    break
                except PostgresError as exc:
                    in_use = "address already in use" in str(exc).lower()
                    if attempt + 1 >= attempts or not in_use:
                        raise
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def _write_config(self) -> None:
        conf = self.data_dir / "postgresql.auto.conf"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "'32MB'",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        text = "# written by tests/support/postgres.py\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
        conf.write_text(text, encoding="utf-8")
        if self._os_user is not None:
            os.chown(conf, self._os_user.pw_uid, self._os_user.pw_gid)

    def start_server(self, timeout: int = 60) -> None:
        """Start the (already initialised) cluster on its port; waits until it accepts connections."""
        if not self._initialised:
            raise PostgresError("call start() first")
        self._run_as_owner(
            [
                str(self.binaries.pg_ctl), "start",
                "--pgdata", str(self.data_dir),
                "--log", str(self.log_file),
                "--wait", "--timeout", str(timeout),
                "--silent",
            ],
            timeout=timeout + 30,
        )  # fmt: skip

    def stop_server(self, mode: str = "immediate", timeout: int = 60) -> None:
        """Stop PostgreSQL but keep the data directory and port (`mode`: smart/fast/immediate)."""
        if not self._initialised or not self.is_running():
            return
        self._run_as_owner(
            [
                str(self.binaries.pg_ctl), "stop",
                "--pgdata", str(self.data_dir),
                "--mode", mode,
                "--wait", "--timeout", str(timeout),
                "--silent",
            ],
            timeout=timeout + 30,
        )  # fmt: skip

    def restart(self, mode: str = "fast") -> None:
        self.stop_server(mode=mode)
        self.start_server()

    def is_running(self) -> bool:
        if not self._initialised:
            return False
        proc = self._run_as_owner(
            [str(self.binaries.pg_ctl), "status", "--pgdata", str(self.data_dir)],
            check=False,
            timeout=30,
        )
        return proc.returncode == 0

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its directory. Safe to call twice."""
        base = self.base_dir
        if base is None:
            return
        try:
            if self._initialised:
                try:
                    self.stop_server(mode="immediate")
                except PostgresError as exc:
                    log.warning("stopping PostgreSQL failed: %s", exc)
        finally:
            self._initialised = False
            self.base_dir = None
            shutil.rmtree(base, ignore_errors=True)
            if self._atexit_registered:
                atexit.unregister(self.stop)
                self._atexit_registered = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- SQL helpers (psql client, no Python driver needed) ------------------------------

    def psql(self, sql: str, database: str | None = None, timeout: float = 60) -> str:
        """Run SQL with the psql client over TCP; returns unaligned, tuples-only output."""
        if self.port is None:
            raise PostgresError("server not started")
        env = self._env()
        env["PGCONNECT_TIMEOUT"] = "10"
        argv = [
            str(self.binaries.psql),
            "--no-psqlrc", "--quiet", "--tuples-only", "--no-align",
            "--set", "ON_ERROR_STOP=1",
            "--host", self.host,
            "--port", str(self.port),
            "--username", self.superuser,
            "--dbname", database or "postgres",
            "--command", sql,
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise PostgresError(f"psql timed out after {timeout}s: {sql}") from exc
        if proc.returncode != 0:
            raise PostgresError(f"psql failed ({proc.returncode}) running {sql!r}: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name`; returns its URL."""
        if not _NAME_RE.match(name):
            raise ValueError(f"unsafe database name {name!r}")
        self.psql(f"CREATE DATABASE {_quote_ident(name)}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name`, terminating any connections still open to it."""
        if not _NAME_RE.match(name):
            raise ValueError(f"unsafe database name {name!r}")
        self.psql(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")


# -- pytest fixtures ---------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running throwaway PostgreSQL for the whole test session."""
    try:
        binaries = find_postgres_binaries()
    except PostgresNotAvailable as exc:
        if _in_ci():
            pytest.fail(f"CI=true but PostgreSQL is not available: {exc}", pytrace=False)
        pytest.skip(str(exc))
    server = PostgresServer(binaries=binaries)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of the session's default database: ``postgresql://postgres@127.0.0.1:PORT/workbench``."""
    return postgres_server.url


@pytest.fixture
def postgres_db_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test (``wb_<random>``); dropped afterwards."""
    # an earlier fault test may have left the server stopped
    if not postgres_server.is_running():
        postgres_server.start_server()
    name = f"wb_{secrets.token_hex(6)}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        if not postgres_server.is_running():
            postgres_server.start_server()
        postgres_server.drop_database(name)
