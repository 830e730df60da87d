"""A tool result as the model sees it, and a connected client with terse call helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastmcp import Client


@dataclass
class Outcome:
    """A tool result as the model sees it: the error object, or the structured data."""

    is_error: bool
    data: dict[str, Any]
    text: str

    @property
    def code(self) -> str | None:
        return self.data.get("error_code") if self.is_error else None


class Session:
    """A connected client with a terse call helper."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, **arguments: Any) -> Outcome:
        result = await self.client.call_tool_mcp(tool, arguments)
        text = result.content[0].text if result.content else ""
        if result.is_error:
            return Outcome(True, json.loads(text), text)
        return Outcome(False, result.structured_content or {}, text)

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        outcome = await self.call(tool, **arguments)
        assert not outcome.is_error, outcome.text
        return outcome.data

    async def error(self, tool: str, code: str, **arguments: Any) -> dict[str, Any]:
        outcome = await self.call(tool, **arguments)
        assert outcome.is_error, f"expected {code}, got success: {outcome.text}"
        assert outcome.code == code, outcome.text
        return outcome.data


def tool_payload(result: Any) -> dict[str, Any]:
    """The structured result of a raw ``call_tool_mcp`` answer, or the error object of an isError one."""
    if result.is_error:
        return json.loads(result.content[0].text)
    return result.structured_content or {}
