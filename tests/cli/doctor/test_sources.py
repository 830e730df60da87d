"""The sources check against a real PostgreSQL: a read-only source on a SELECT-only role passes,
the same role with a write grant is a warning naming the table, a superuser fails; a database
that does not answer fails naming the source."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import asyncpg
import pytest

from tests.cli.doctor.report import Report, write_config

pytestmark = pytest.mark.timeout(300)


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def reader(postgres_db_url: str) -> Iterator[str]:
    """A login role with SELECT on one table only; yields its URL."""
    role = "wb_doctor_" + postgres_db_url.rsplit("/", 1)[1][-8:]
    anyio.run(
        _admin,
        postgres_db_url,
        "CREATE TABLE notes (id integer PRIMARY KEY, body text)",
        f"CREATE ROLE {role} LOGIN",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT SELECT ON notes TO {role}",
    )
    try:
        yield postgres_db_url.replace("postgres@", f"{role}@", 1)
    finally:
        anyio.run(_admin, postgres_db_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def _config(tmp_path: Path, url: str) -> Path:
    return write_config(tmp_path / "config.toml", f'[data.sources.reports]\nurl = "{url}"\nread_only = true\n')


def test_a_read_only_source_on_a_select_only_role_passes(
    doctor: Callable[..., Report], tmp_path: Path, reader: str
) -> None:
    report = doctor("--config", str(_config(tmp_path, reader)), "--data-dir", str(tmp_path / "d"), "--check", "sources")
    assert report.code == 0, report.out
    [line] = [line for line in report.lines("sources") if "reports:" in line]
    assert line.startswith("✔") and "read-only (READ ONLY transactions), and its role may change no table" in line
    assert "password" not in report.out


def test_a_write_grant_on_a_read_only_source_is_a_warning_naming_the_table(
    doctor: Callable[..., Report], tmp_path: Path, reader: str, postgres_db_url: str
) -> None:
    role = reader.split("://", 1)[1].split("@", 1)[0]
    anyio.run(_admin, postgres_db_url, f"GRANT INSERT ON notes TO {role}")
    report = doctor("--config", str(_config(tmp_path, reader)), "--data-dir", str(tmp_path / "d"), "--check", "sources")
    assert report.code == 0, report.out  # a warning: the server still refuses the writes
    warning = [line for line in report.lines("sources") if line.startswith("!")]
    assert warning and "read_only = true, but the role may change 1 table(s) (public.notes)" in warning[0]
    assert "SELECT only" in report.out


def test_a_superuser_source_fails(doctor: Callable[..., Report], tmp_path: Path, postgres_db_url: str) -> None:
    report = doctor(
        "--config", str(_config(tmp_path, postgres_db_url)), "--data-dir", str(tmp_path / "d"), "--check", "sources"
    )
    assert report.code == 1
    failed = [line for line in report.lines("sources") if line.startswith("✘")]
    assert failed and "reports: connects as superuser" in failed[0]


def test_a_database_that_does_not_answer_fails_naming_the_source(doctor: Callable[..., Report], tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://nobody@127.0.0.1:{port}/nothing"
    report = doctor("--config", str(_config(tmp_path, url)), "--data-dir", str(tmp_path / "d"), "--check", "sources")
    assert report.code == 1
    [line, fix] = [line for line in report.lines("sources") if "reports" in line or "fix:" in line][:2]
    assert line.startswith("✘ sources  reports:") and "does not answer" in line
    assert "[data.sources.reports] url" in fix


def test_the_embedded_workspace_is_not_created_by_the_check(doctor: Callable[..., Report], tmp_path: Path) -> None:
    report = doctor("--data-dir", str(tmp_path / "data"), "--check", "sources")
    assert report.code == 0 and "created at the first write" in report.out
    assert not (tmp_path / "data" / "workspace.db").exists()
