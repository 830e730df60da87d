"""Shared fixtures: settings built per test, the server driven through a real fastmcp Client
in both protocol eras, and data sources on SQLite and on a real PostgreSQL.

Fixtures only: helpers a test imports live in ``tests/support/`` (a conftest is not a module to
import from)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings, load_settings
from tests.support.session import Session

pytest_plugins = ["tests.support.postgres", "tests.support.redis"]

ERAS = ["legacy", "auto"]  # handshake era (2025-11-25) and the sessionless 2026-07-28


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own config file or WORKBENCH_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("WORKBENCH_") and not key.startswith("WORKBENCH_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture(params=ERAS)
def era(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return load_settings(None, **overrides)

    return make


@pytest.fixture
async def connect(era: str) -> AsyncIterator[Callable[[Settings], Any]]:
    """``async with connect(settings) as session`` — a real client on a fresh server."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_session(settings: Settings) -> AsyncIterator[Session]:
        async with Client(build_server(settings), mode=era) as client:
            yield Session(client)

    yield open_session


@pytest.fixture
async def session(connect: Callable[[Settings], Any], make_settings: Callable[..., Settings]) -> AsyncIterator[Session]:
    async with connect(make_settings()) as opened:
        yield opened


def pytest_itemcollected(item: pytest.Item) -> None:
    """With workers (pytest-xdist, ``--dist loadgroup``), the tests that share a fixture wider than
    one test (a server per module, the Inspector matrix, a built wheel) run on one worker, so that
    fixture is set up once, not once per worker. The plugins' fixtures (a PostgreSQL per worker)
    and autouse ones are left out: each worker needs its own anyway. (Marked as each test is
    collected: xdist reads the groups in its own collection hook.)"""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    autouse = set(info.initialnames) - set(info.argnames)
    shared = {
        definition.baseid
        for name in info.names_closure
        if name not in autouse
        for definition in info.name2fixturedefs.get(name, ())[-1:]
        if definition.scope != "function" and definition.baseid
    }
    if shared:
        item.add_marker(pytest.mark.xdist_group(min(shared, key=len)))
