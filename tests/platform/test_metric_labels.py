"""Metrics labels come from the server's own catalog, never from what a caller sends.

Tool names, operations, resource URIs, prompt names and completion references from callers
map to the catalog's names or to one fixed ``other``: a thousand random (and huge) ones leave
the set of series, and the size of /metrics, as they were.
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path
from urllib.parse import quote

import pytest
from fastmcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from mcp_workbench.platform.call_middleware import ToolCallMiddleware
from mcp_workbench.server import build_server

pytestmark = pytest.mark.anyio

SERIES = re.compile(r"^(\w+\{[^}]*\}|\w+) ", re.MULTILINE)


def _scrape(mcp) -> tuple[set[str], int]:
    layer = next(m for m in mcp.middleware if isinstance(m, ToolCallMiddleware))
    text = layer.metrics.render().decode()
    return set(SERIES.findall(text)), len(text)


def _junk(rng: random.Random) -> str:
    size = rng.choice([1, 8, 40, 300, 5_000, 100_000])
    return "".join(rng.choices(string.ascii_letters + string.digits + '_-"{}\\\n ', k=size))


async def _hostile_requests(client: Client, rng: random.Random, rounds: int) -> None:
    """Each round, every request kind with made-up names: tools, operations, URIs, prompts, refs."""
    for _ in range(rounds):
        await client.call_tool_mcp(_junk(rng), {"operation": _junk(rng)})
        await client.call_tool_mcp("data_read", {"operation": _junk(rng)})
        await client.call_tool_mcp("web_fetch", {"operation": _junk(rng), "url": "not a url"})
        await client.call_tool_mcp("files_read", {"operation": ["not", "a", "string"]})
        with pytest.raises(MCPError):
            await client.read_resource("nothing://host/" + quote(_junk(rng), safe=""))
        with pytest.raises(MCPError):
            await client.get_prompt(_junk(rng))
        await client.complete(PromptReference(type="ref/prompt", name=_junk(rng)), {"name": "x", "value": ""})
        await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="nothing://host/" + quote(_junk(rng), safe="")),
            {"name": "x", "value": ""},
        )


async def test_random_and_huge_names_add_no_series_and_no_bytes(make_settings, era: str, tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    roots = {"proj": {"path": str(tmp_path / "root")}}
    mcp = build_server(make_settings(files={"roots": roots}, limits={"default": "100000/minute"}))
    rng = random.Random(9)
    async with Client(mcp, mode=era) as client:
        await _hostile_requests(client, rng, 1)  # every "other" series exists from here on
        series, size = _scrape(mcp)
        await _hostile_requests(client, rng, 125)  # a thousand requests
        after, grown = _scrape(mcp)
    assert after == series
    assert grown - size < 200  # only the counts' digits grew
    assert 'workbench_tool_calls_total{operation="other",outcome="NOT_FOUND",tool="other"}' in series
    assert 'workbench_tool_calls_total{operation="other",outcome="VALIDATION_ERROR",tool="data_read"}' in series
    assert 'workbench_tool_calls_total{operation="other",outcome="VALIDATION_ERROR",tool="web_fetch"}' in series
    assert 'workbench_requests_total{kind="completion",name="other",outcome="NOT_FOUND"}' in series


async def test_the_rate_limited_counter_names_only_catalog_tools(make_settings, era: str) -> None:
    mcp = build_server(make_settings(limits={"default": "2/minute"}))
    rng = random.Random(5)
    async with Client(mcp, mode=era) as client:
        for _ in range(20):
            name = _junk(rng)
            for _ in range(3):  # an unknown tool spends nothing, so it is never limited
                await client.call_tool_mcp(name, {"operation": _junk(rng)})
            await client.call_tool_mcp("data_read", {"operation": _junk(rng)})
    series, _ = _scrape(mcp)
    limited = {s for s in series if s.startswith("workbench_rate_limited_total")}
    assert limited == {'workbench_rate_limited_total{tool="data_read"}'}
