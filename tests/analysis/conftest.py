"""Fixtures of the analysis tests: a scripted model and a real client on a fresh server, in both eras."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.analysis.scripted import ScriptedModel
from tests.support.session import Session


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def analysis_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(**analysis: Any) -> Settings:
        return make_settings(tools=["analysis"], analysis=analysis)

    return make


@pytest.fixture
def sampling(era: str, model: ScriptedModel) -> Callable[..., Any]:
    """``async with sampling(settings) as session``: a client whose model is the scripted one."""

    @asynccontextmanager
    async def open_session(settings: Settings, **client: Any) -> AsyncIterator[Session]:
        async with Client(build_server(settings), mode=era, sampling_handler=model.sampling_handler(), **client) as c:
            yield Session(c)

    return open_session
