"""A single-operation tool on MCP: one pydantic model for its arguments, one handler.

:class:`ModelTool` is :class:`~mcp_workbench.platform.tools.OperationTool`'s sibling for a tool
without an ``operation`` field: FastMCP gets the model's JSON schema (refs inlined, titles
dropped) and hands the raw arguments to :meth:`ModelTool.run`, which validates them itself, so
bad input comes back as VALIDATION_ERROR in the one error shape, with recovery steps, rather
than as FastMCP's own validation message.

:func:`tool_boundary` is the try/except every tool needs: a WorkbenchError becomes its error
result, anything else is logged under the call's correlation id and masked as INTERNAL_ERROR.
Both belong in ``platform/tools.py`` (OperationTool.run could call ``tool_boundary``); they live
here until that move.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastmcp.tools.base import Tool, ToolResult
from mcp_types import ToolAnnotations
from pydantic import BaseModel, PrivateAttr, ValidationError

from mcp_workbench.platform.calls import current_call, current_correlation_id
from mcp_workbench.platform.errors import InvalidInput, WorkbenchError, error_result, internal_error
from mcp_workbench.platform.tools import Answer

log = logging.getLogger("mcp_workbench.tools")


async def tool_boundary(tool: str, work: Callable[[], Awaitable[Answer]]) -> ToolResult:
    """Run ``work`` and turn its outcome into a tool result, errors included."""
    record = current_call()
    try:
        answer = await work()
    except WorkbenchError as exc:
        if record:
            record.error_code = str(exc.code)
        return error_result(exc, current_correlation_id())
    except Exception:
        correlation_id = current_correlation_id()
        if record:
            record.error_code = "INTERNAL_ERROR"
        log.exception("unexpected error in tool", extra={"tool": tool, "correlation_id": correlation_id})
        return error_result(internal_error(), correlation_id)
    return answer.to_tool_result()


class ModelTool(Tool):
    """A tool whose arguments are exactly one pydantic model."""

    _model: type[BaseModel] = PrivateAttr()
    _handler: Callable[[Any], Awaitable[Answer]] = PrivateAttr()

    @classmethod
    def build(
        cls,
        *,
        name: str,
        title: str,
        description: str,
        model: type[BaseModel],
        handler: Callable[[Any], Awaitable[Answer]],
        annotations: ToolAnnotations,
    ) -> ModelTool:
        tool = cls(
            name=name,
            title=title,
            description=description,
            parameters=model_schema(model),
            annotations=annotations,
        )
        tool._model = model
        tool._handler = handler
        return tool

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        return await tool_boundary(self.name, lambda: self._handler(self.parse(arguments)))

    def parse(self, arguments: Mapping[str, Any] | None) -> BaseModel:
        """Validate ``arguments`` (a null value counts as absent), or raise :class:`InvalidInput`."""
        cleaned = {key: value for key, value in (arguments or {}).items() if value is not None}
        try:
            return self._model.model_validate(cleaned)
        except ValidationError as exc:
            raise self._invalid(exc) from None

    def _invalid(self, exc: ValidationError) -> InvalidInput:
        accepted = list(self._model.model_fields)
        problems = []
        for error in exc.errors(include_url=False, include_context=False, include_input=False):
            where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
            message = f"is not an argument of {self.name}" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append({"field": where, "problem": message})
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        return InvalidInput(
            f"invalid arguments for {self.name}: {summary}",
            recovery_steps=[
                f"{self.name} accepts: {', '.join(accepted)}.",
                "Fix the fields listed in details.problems and call again.",
            ],
            details={"problems": problems},
        )


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as clients like it: refs inlined, titles dropped, no extra keys."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    clean = _strip_titles(_inline_refs(schema, defs))
    clean.pop("description", None)  # the model's docstring; the tool's description says it better
    clean["additionalProperties"] = False
    return clean


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
            return _inline_refs(merged, defs)
        return {key: _inline_refs(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _strip_titles(value) for key, value in node.items() if not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_strip_titles(item) for item in node]
    return node
