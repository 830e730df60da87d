"""Every request that reaches a capability is accounted like a tool call: one log line with its
kind, a time budget, and the unknown-tool answer in the error contract, on a local (stdio-like)
connection with every scope."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastmcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import ResourceTemplateReference

from mcp_workbench.server import build_server

pytestmark = pytest.mark.anyio

FILE_TEMPLATE = "files://{root}/{path*}"


@pytest.fixture
def settings(make_settings, tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("alpha\n", encoding="utf-8")
    return make_settings(files={"roots": {"proj": {"path": str(root)}}})


async def test_each_request_kind_logs_one_line_with_its_kind(
    settings, era: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(build_server(settings), mode=era) as client:
        with caplog.at_level(logging.INFO, logger="mcp_workbench.calls"):
            await client.call_tool_mcp("files_read", {"operation": "roots"})
            await client.read_resource("files://proj/a.txt")
            await client.get_prompt("explore_database", {"source": "workspace"})
            await client.complete(ResourceTemplateReference(type="ref/resource", uri=FILE_TEMPLATE),
                                  {"name": "root", "value": ""})  # fmt: skip
            with pytest.raises(MCPError):
                await client.read_resource("files://nope/a.txt")
    lines = [r for r in caplog.records if r.name == "mcp_workbench.calls"]
    assert [(r.kind, r.error_code) for r in lines] == [
        ("tool", None),
        ("resource", None),
        ("prompt", None),
        ("completion", None),
        ("resource", "NOT_FOUND"),  # the files service's own answer, as its code
    ]
    assert [getattr(r, "target", None) for r in lines[1:]] == [
        "files://proj/a.txt",
        "explore_database",
        FILE_TEMPLATE,
        "files://nope/a.txt",
    ]
    assert all(len(r.correlation_id) == 32 and r.caller == "local" for r in lines)


async def test_a_resource_read_runs_within_the_time_budget_of_its_tool(make_settings, era: str) -> None:
    settings = make_settings(timeouts={"tools": {"data_read": 0.000001}})
    async with Client(build_server(settings), mode=era) as client:
        with pytest.raises(MCPError) as stopped:
            await client.read_resource("data://workspace/schema")
    assert stopped.value.message.startswith("TIMEOUT: ")
    assert stopped.value.data["error_code"] == "TIMEOUT" and stopped.value.data["retryable"] is True


@pytest.mark.parametrize(
    ("name", "suggested"),
    [("sql_query", []), ("data_reed", ["data_read", "data_write"]), ("Files_Read", ["files_read", "files_write"])],
)
async def test_an_unknown_tool_is_a_not_found_error_object(settings, era: str, name: str, suggested: list[str]) -> None:
    async with Client(build_server(settings), mode=era) as client:
        result = await client.call_tool_mcp(name, {"operation": "roots"})
    payload = json.loads(result.content[0].text)
    assert result.is_error and payload["error_code"] == "NOT_FOUND" and payload["retryable"] is False
    assert payload["details"] == {"tool": name, "did_you_mean": suggested}
    assert payload["recovery_steps"] and payload["correlation_id"]


async def test_a_huge_name_or_operation_is_cut_in_the_log_line(
    settings, era: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(build_server(settings), mode=era) as client:
        with caplog.at_level(logging.INFO, logger="mcp_workbench.calls"):
            await client.call_tool_mcp("t" * 100_000, {"operation": "o" * 100_000})
            await client.call_tool_mcp("files_read", {"operation": "o" * 100_000})
            with pytest.raises(MCPError):
                await client.read_resource("files://proj/" + "r" * 100_000)
    lines = [r for r in caplog.records if r.name == "mcp_workbench.calls"]
    assert len(lines) == 3
    assert all(len(json.dumps(r.__dict__, default=str)) < 3_000 for r in lines)
