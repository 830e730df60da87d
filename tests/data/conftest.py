"""Data tests run on both engines: the embedded SQLite workspace and a real PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.settings import Settings
from tests.conftest import Session

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def workspace_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if engine == "postgresql":
        return request.getfixturevalue("postgres_db_url")
    return f"sqlite:///{tmp_path / 'data' / 'workspace.db'}"


@pytest.fixture
def data_settings(make_settings: Callable[..., Settings], workspace_url: str) -> Callable[..., Settings]:
    """Settings whose 'workspace' source is on the engine under test."""

    def make(sources: dict[str, Any] | None = None, **data: Any) -> Settings:
        all_sources = {"workspace": {"url": workspace_url}, **(sources or {})}
        return make_settings(data={"sources": all_sources, **data})

    return make


@pytest.fixture
async def db(connect: Callable[[Settings], Any], data_settings: Callable[..., Settings]) -> AsyncIterator[Session]:
    async with connect(data_settings()) as opened:
        yield opened


NOTES = [
    {"id": 1, "title": "Alpha report", "body": "quarterly numbers for the board", "score": 10, "day": "2024-01-05"},
    {"id": 2, "title": "Beta plan", "body": "roadmap with 100% coverage_goal", "score": 20, "day": "2024-02-10"},
    {"id": 3, "title": "Gamma notes", "body": None, "score": 30, "day": "2024-03-15"},
    {"id": 4, "title": "Delta review", "body": "o'brien said: quarterly is fine", "score": None, "day": None},
]


async def make_notes(session: Session, source: str = "workspace") -> None:
    await session.ok(
        "data_write",
        operation="create_table",
        source=source,
        table="notes",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "title", "type": "text", "nullable": False},
            {"name": "body", "type": "text"},
            {"name": "score", "type": "integer"},
            {"name": "day", "type": "date"},
        ],
    )
    await session.ok("data_write", operation="insert", source=source, table="notes", rows=NOTES)


async def fingerprint(session: Session, source: str = "workspace") -> str:
    """A digest of every table's definition and rows, read through the server itself."""
    digest = hashlib.sha256()
    tables = (await session.ok("data_read", operation="tables", source=source))["tables"]
    for table in tables:
        described = await session.ok("data_read", operation="describe", source=source, table=table["name"])
        digest.update(repr(described["columns"]).encode())
        offset: int | None = 0
        while offset is not None:
            page = await session.ok(
                "data_read", operation="select", source=source, table=table["name"], limit=1000, offset=offset
            )
            digest.update(repr(page["rows"]).encode())
            offset = page["next_offset"]
    return digest.hexdigest()
