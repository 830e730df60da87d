"""Tool-level fuzzing: every listed tool, fed generated and hostile arguments, in both eras.

For each tool the server lists, Hypothesis draws arguments from the tool's published input
schema (hypothesis-jsonschema; names swapped for existing ones half of the time) and from a
family of deliberately invalid ones (see :mod:`tests.fuzz.strategies`). Every answer must be a
normal result or an ``isError`` result whose text is our JSON error object with a code from the
documented closed set — never INTERNAL_ERROR, never a JSON-RPC error — and the server must
answer a ping (on 2026-07-28, which has no ping: a tools/list) after every example. The
read-only tools must leave every SQLite file, the PostgreSQL database and both file roots
exactly as they were; the write tools must never touch the read-only source, the read-only
root, or anything outside the roots.

CI runs the derandomized ``ci`` profile (60 examples per tool, input family and era). The
nightly run explores far more, with a new seed each time::

    HYPOTHESIS_PROFILE=nightly uv run pytest tests/fuzz -p no:cacheprovider -q --timeout 7200

A failure prints the falsifying arguments and a ``@reproduce_failure`` blob.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from fastmcp import Client
from hypothesis import given
from hypothesis import strategies as st
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, Tool

from mcp_workbench.server import build_server
from tests.fuzz.profiles import fuzz_settings, timeout_marks
from tests.fuzz.strategies import Names, invalid_arguments, schema_arguments
from tests.fuzz.world import World

pytestmark = [pytest.mark.anyio, *timeout_marks()]

DOCUMENTED_CODES = frozenset(
    {
        "VALIDATION_ERROR",
        "NOT_FOUND",
        "PERMISSION_DENIED",
        "READ_ONLY",
        "RATE_LIMITED",
        "TIMEOUT",
        "UPSTREAM_ERROR",
        "CONFLICT",
        "TOO_LARGE",
    }
)  # INTERNAL_ERROR is documented too, but under fuzzing it is always a bug
ERROR_KEYS = {"error", "error_code", "recovery_steps", "retryable", "details", "correlation_id"}


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def assert_documented_outcome(tool: str, arguments: dict[str, Any], result: CallToolResult) -> None:
    where = f"{tool}({_short(arguments)})"
    assert result.content, f"{where}: a result without content"
    if not result.is_error:
        assert result.structured_content is None or isinstance(result.structured_content, dict), where
        return
    assert len(result.content) == 1 and isinstance(result.content[0], TextContent), f"{where}: {result.content}"
    text = result.content[0].text
    try:
        payload = json.loads(text)
    except ValueError:
        pytest.fail(f"{where}: the error is not our JSON error object: {_short(text)}")
    assert isinstance(payload, dict) and set(payload) == ERROR_KEYS, f"{where}: {_short(payload)}"
    assert payload["error_code"] in DOCUMENTED_CODES, f"{where} -> {payload['error_code']}: {_short(payload)}"
    assert isinstance(payload["error"], str) and payload["error"], where
    assert isinstance(payload["retryable"], bool) and isinstance(payload["details"], dict), where
    assert payload["recovery_steps"] and all(isinstance(s, str) and s for s in payload["recovery_steps"]), where
    assert isinstance(payload["correlation_id"], str) and payload["correlation_id"], where


async def run_examples(strategy: st.SearchStrategy[Any], check: Callable[[Any], Awaitable[None]]) -> None:
    """Let Hypothesis drive ``check`` from a worker thread; each example runs on this event loop."""

    @fuzz_settings()
    @given(strategy)
    def example(arguments: Any) -> None:
        anyio.from_thread.run(check, arguments)

    await anyio.to_thread.run_sync(example)


async def alive(client: Client, era: str) -> bool:
    """Ping on handshake-era connections; 2026-07-28 has no ping, so list the tools there."""
    if era == "legacy":
        return await client.ping()
    return bool(await client.list_tools())


async def fuzz_tool(client: Client, era: str, tool: Tool, names: Names) -> None:
    schema = tool.input_schema
    operations = list(schema.get("properties", {}).get("operation", {}).get("enum", []))

    async def check(arguments: dict[str, Any]) -> None:
        try:
            result = await client.call_tool_mcp(tool.name, arguments)
        except MCPError as exc:
            pytest.fail(f"{tool.name}({_short(arguments)}) answered with a JSON-RPC error, not a tool result: {exc}")
        assert_documented_outcome(tool.name, arguments, result)
        assert await alive(client, era), "the server stopped answering"

    for strategy in (schema_arguments(schema, names), invalid_arguments(schema, names, operations)):
        await run_examples(strategy, check)


def _read_only(tool: Tool) -> bool:
    return bool(tool.annotations and tool.annotations.read_only_hint)


async def test_read_only_tools_answer_any_arguments_and_change_nothing(world: World, era: str) -> None:
    async with Client(build_server(world.settings), mode=era, timeout=120) as client:
        tools = await client.list_tools()
        readers = [tool for tool in tools if _read_only(tool)]
        assert {"data_read"} <= {tool.name for tool in readers}
        before = await world.everything()
        for tool in readers:
            await fuzz_tool(client, era, tool, world.names)
        after = await world.everything()
        changed = sorted(key for key in before if before[key] != after[key])
        assert not changed, f"read-only tools changed: {changed}"
        assert [t.name for t in await client.list_tools()] == [t.name for t in tools]


async def test_write_tools_answer_any_arguments_and_never_touch_what_is_protected(world: World, era: str) -> None:
    async with Client(build_server(world.settings), mode=era, timeout=120) as client:
        tools = await client.list_tools()
        writers = [tool for tool in tools if not _read_only(tool)]
        assert {"data_write"} <= {tool.name for tool in writers}
        before = world.protected()
        for tool in writers:
            await fuzz_tool(client, era, tool, world.names)
        after = world.protected()
        changed = sorted(key for key in before if before[key] != after[key])
        assert not changed, f"write tools changed read-only or outside data: {changed}"
        assert [t.name for t in await client.list_tools()] == [t.name for t in tools]
