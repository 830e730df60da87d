"""``analyze`` over stdio, the way most hosts start the server: the caller's model in both eras,
and the brief for a client that cannot sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from tests.analysis.example import CONTEXT, TASK
from tests.analysis.scripted import ScriptedModel
from tests.support.servers import SERVE, clean_env

pytestmark = pytest.mark.anyio

ROUTE = {"legacy": "session", "auto": "guard"}


async def test_a_stdio_server_reaches_the_clients_model_in_either_era(era: str, tmp_path: Path) -> None:
    model = ScriptedModel(marks=lambda k, c: 5 if k == 2 else 3)
    env = clean_env(tmp_path / "data", {"WORKBENCH_TOOLS": "analysis"})
    transport = StdioTransport(command=SERVE[0], args=SERVE[1:], env=env)
    async with Client(transport, mode=era, sampling_handler=model.sampling_handler()) as client:
        sampled = await client.call_tool_mcp("analyze", {"task": TASK, "context": CONTEXT})
    async with Client(StdioTransport(command=SERVE[0], args=SERVE[1:], env=env), mode=era) as client:
        briefed = await client.call_tool_mcp("analyze", {"task": TASK, "context": CONTEXT})
    out = sampled.structured_content
    assert (out["route"], out["stop_reason"], out["iterations_used"]) == (ROUTE[era], "threshold", 2)
    assert [h["score"] for h in out["history"]] == [0.5, 1.0]
    assert (briefed.structured_content["route"], briefed.structured_content["stop_reason"]) == ("none", "no_model")
