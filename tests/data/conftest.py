"""Data tests run on both engines: the embedded SQLite workspace and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.settings import Settings
from tests.support.session import Session

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
