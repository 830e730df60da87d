"""Per-call time budgets, rate-limit storage failures, and tracing — in-process, real components."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from tests.support.session import Session

pytestmark = pytest.mark.anyio


async def test_a_call_past_its_budget_answers_timeout_and_its_write_is_rolled_back(
    make_settings, tmp_path: Path, era: str
) -> None:
    settings = make_settings(timeouts={"tools": {"data_write": 0.5}}, data={"statement_timeout_s": 30})
    async with Client(build_server(settings), mode=era) as client:
        session = Session(client)
        await session.ok("data_write", operation="create_table", table="t", columns=[{"name": "a", "type": "integer"}])
        db = sqlite3.connect(tmp_path / "data" / "workspace.db", isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # another writer holds the lock: our insert waits
        try:
            error = await session.error("data_write", "TIMEOUT", operation="insert", table="t", rows=[{"a": 1}])
            assert error["details"] == {"tool": "data_write", "timeout_s": 0.5} and error["retryable"] is True
        finally:
            db.execute("ROLLBACK")
            db.close()
        assert (await session.ok("data_read", operation="count", table="t"))["count"] == 0
        await session.ok("data_write", operation="insert", table="t", rows=[{"a": 2}])  # the source still works
        assert (await session.ok("data_read", operation="select", table="t"))["rows"] == [[2]]


async def test_unreachable_rate_limit_storage_fails_open_by_default(make_settings, era: str) -> None:
    settings = make_settings(limits={"storage": "redis://127.0.0.1:1/0", "default": "1/minute"})
    async with Client(build_server(settings), mode=era) as client:
        for _ in range(3):
            assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error


async def test_unreachable_rate_limit_storage_fails_closed_when_configured(make_settings, era: str) -> None:
    settings = make_settings(limits={"storage": "redis://127.0.0.1:1/0", "on_storage_error": "closed"})
    async with Client(build_server(settings), mode=era) as client:
        result = await client.call_tool_mcp("data_read", {"operation": "sources"})
        payload = json.loads(result.content[0].text)
        assert result.is_error and payload["error_code"] == "UPSTREAM_ERROR"
        assert payload["details"]["dependency"] == "rate_limit_storage"
        assert await client.list_tools()  # the server keeps serving


async def test_redis_shares_the_limit_between_two_servers(make_settings, redis_server, era: str) -> None:
    settings = make_settings(limits={"storage": redis_server.url, "tools": {"data_read": "3/minute"}})
    async with Client(build_server(settings), mode=era) as one, Client(build_server(settings), mode=era) as two:
        outcomes = [
            (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error
            for client in (one, two, one, two)
        ]
    assert outcomes == [False, False, False, True]


async def test_tool_calls_emit_opentelemetry_spans(session: Session) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = trace._TRACER_PROVIDER  # the API allows setting the global provider once; restore it
    trace._TRACER_PROVIDER = provider
    try:
        await session.ok("data_read", operation="sources")
    finally:
        trace._TRACER_PROVIDER = previous
    names = [span.name for span in exporter.get_finished_spans()]
    assert "tools/call data_read" in names
