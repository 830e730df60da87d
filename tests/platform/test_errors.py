"""The error model on the wire: one shape, masked internals, correlation ids in the log."""

from __future__ import annotations

import json
import logging
from typing import Literal

import pytest
from fastmcp import Client, FastMCP
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from mcp_workbench.platform.call_middleware import ToolCallMiddleware
from mcp_workbench.platform.errors import ErrorCode, InvalidInput, RateLimited, WorkbenchError, error_result
from mcp_workbench.platform.tool_adapters import Answer, Operation, OperationTool

pytestmark = pytest.mark.anyio

ERROR_KEYS = {"error", "error_code", "recovery_steps", "retryable", "details", "correlation_id"}


class Boom(BaseModel):
    """raise an unexpected exception"""

    operation: Literal["boom"]


class Refuse(BaseModel):
    """raise a domain error"""

    operation: Literal["refuse"]


async def _boom(_: Boom) -> Answer:
    raise RuntimeError("secret internal detail: password=hunter2")


async def _refuse(_: Refuse) -> Answer:
    raise InvalidInput("that will not do", recovery_steps=["do it differently"], details={"field": "x"})


def _server() -> FastMCP:
    """A server with the platform layer and one test tool whose operations fail on purpose."""
    mcp = FastMCP("errors-test", middleware=[ToolCallMiddleware()])
    mcp.add_tool(
        OperationTool.build(
            name="faulty",
            title="Faulty",
            description="Fails on purpose.",
            operations=[Operation(Boom, _boom), Operation(Refuse, _refuse)],
            annotations=ToolAnnotations(readOnlyHint=True),
            scope="*",
        )
    )
    return mcp


async def test_unexpected_exceptions_are_masked_and_logged_with_the_same_correlation_id(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with Client(_server(), mode=era) as client:
        result = await client.call_tool_mcp("faulty", {"operation": "boom"})
    assert result.is_error
    payload = json.loads(result.content[0].text)
    assert set(payload) == ERROR_KEYS
    assert payload["error_code"] == "INTERNAL_ERROR"
    assert "hunter2" not in result.content[0].text
    traced = [
        r for r in caplog.records if getattr(r, "correlation_id", None) == payload["correlation_id"] and r.exc_info
    ]
    assert traced, "the log has the trace under the caller's correlation id"
    assert "hunter2" in str(traced[0].exc_info[1])


async def test_domain_errors_keep_their_code_message_and_recovery_steps(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with Client(_server(), mode=era) as client:
        result = await client.call_tool_mcp("faulty", {"operation": "refuse"})
    payload = json.loads(result.content[0].text)
    assert payload["error_code"] == "VALIDATION_ERROR"
    assert payload["error"] == "that will not do"
    assert payload["recovery_steps"] == ["do it differently"]
    assert payload["details"] == {"field": "x"}
    assert payload["retryable"] is False
    [line] = [r for r in caplog.records if r.getMessage() == "tool call"]
    assert line.tool == "faulty" and line.operation == "refuse"
    assert line.outcome == "error" and line.error_code == "VALIDATION_ERROR"
    assert line.correlation_id == payload["correlation_id"]
    assert line.duration_ms >= 0


async def test_every_successful_call_is_logged_once(session, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await session.ok("data_read", operation="sources")
    lines = [r for r in caplog.records if r.getMessage() == "tool call"]
    assert len(lines) == 1
    assert lines[0].outcome == "ok" and lines[0].tool == "data_read" and lines[0].operation == "sources"


def test_rate_limited_errors_carry_retry_after() -> None:
    payload = json.loads(error_result(RateLimited("slow down", retry_after_s=2.5), "cid").content[0].text)
    assert payload["error_code"] == "RATE_LIMITED"
    assert payload["details"]["retry_after_s"] == 2.5
    assert payload["retryable"] is True
    assert "2.5" in payload["recovery_steps"][0]


def test_every_error_class_has_a_documented_code_and_default_recovery() -> None:
    def subclasses(cls: type) -> list[type]:
        return [cls] + [s for sub in cls.__subclasses__() for s in subclasses(sub)]

    for cls in subclasses(WorkbenchError)[1:]:
        assert cls.code in ErrorCode
        if cls is not RateLimited:
            assert cls("x").recovery_steps, f"{cls.__name__} has no default recovery steps"
