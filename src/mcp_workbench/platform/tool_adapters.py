"""The adapters between MCP and our tools: operation-style ("portmanteau") tools and
single-model tools, plus the one error boundary both use.

A tool such as ``data_read`` groups several operations; each operation is a pydantic model
with an ``operation: Literal[...]`` tag. Arguments are validated as a discriminated union of
those models, so every operation gets exactly its own fields and bounds. The *published*
input schema is flat (one object whose ``operation`` enum picks the shape) because several
clients reject a top-level ``oneOf``; the union is enforced here instead.

:class:`ModelTool` is the sibling for a tool without an ``operation`` field (``web_fetch``):
its schema is its one model's. :func:`tool_boundary` is where errors turn into results: a
:class:`WorkbenchError` from the domain becomes the one error shape, anything else is masked
as INTERNAL_ERROR and logged with the call's correlation id.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args

from fastmcp.tools.base import Tool, ToolResult
from mcp_types import TextContent, ToolAnnotations
from pydantic import BaseModel, Field, PrivateAttr, TypeAdapter, ValidationError

from mcp_workbench.platform.auth import scope_tags
from mcp_workbench.platform.call_middleware import current_call, current_correlation_id
from mcp_workbench.platform.errors import InvalidInput, WorkbenchError, error_result, internal_error

log = logging.getLogger("mcp_workbench.tools")


@dataclass
class Answer:
    """A successful tool result: ``text`` for the model to read, ``data`` as structuredContent."""

    text: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_tool_result(self) -> ToolResult:
        # Built without ToolResult's validation, which copies ``data`` into JSON form: the wire
        # encoder (mcp's, mode="json") converts it anyway, and for a 1,000-row select the copy
        # alone is ~0.4 ms. ``data`` is a plain dict, as the field requires.
        return ToolResult.model_construct(
            content=[TextContent(type="text", text=self.text)], structured_content=self.data, meta=None, is_error=False
        )


Handler = Callable[[Any], Awaitable[Answer]]


@dataclass(frozen=True)
class Operation:
    """One operation of a tool: its argument model and the coroutine that serves it."""

    model: type[BaseModel]
    handler: Handler

    @property
    def name(self) -> str:
        name: str = get_args(self.model.model_fields["operation"].annotation)[0]  # Literal["<name>"]
        return name


class OperationTool(Tool):
    """A tool whose arguments are one of several operation models, told apart by ``operation``."""

    _operations: dict[str, Operation] = PrivateAttr(default_factory=dict)
    _adapter: TypeAdapter[Any] = PrivateAttr()

    @classmethod
    def build(
        cls,
        *,
        name: str,
        title: str,
        description: str,
        operations: list[Operation],
        annotations: ToolAnnotations,
        scope: str,
    ) -> OperationTool:
        by_name = {op.name: op for op in operations}
        tool = cls(
            name=name,
            title=title,
            description=description,
            parameters=flat_schema([op.model for op in operations]),
            annotations=annotations,
            tags=scope_tags(scope),
        )
        tool._operations = by_name
        union: Any = Union[tuple(op.model for op in operations)]  # noqa: UP007 - runtime union of classes
        tool._adapter = TypeAdapter(Annotated[union, Field(discriminator="operation")])
        return tool

    @property
    def operation_names(self) -> tuple[str, ...]:
        """The values ``operation`` may take (the literals of the union's models)."""
        return tuple(self._operations)

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        async def work() -> Answer:
            request = self.parse(arguments)
            return await self._operations[request.operation].handler(request)

        return await tool_boundary(self.name, work)

    def parse(self, arguments: Mapping[str, Any]) -> Any:
        """Validate ``arguments`` into the operation's model, or raise :class:`InvalidInput`."""
        cleaned = {key: value for key, value in arguments.items() if value is not None}
        operation = cleaned.get("operation")
        if not isinstance(operation, str) or operation not in self._operations:
            allowed = sorted(self._operations)
            raise InvalidInput(
                f"'operation' must be one of {allowed}, got {operation!r}",
                recovery_steps=[f"Call {self.name} again with operation set to one of: {', '.join(allowed)}."],
                details={"field": "operation", "allowed": allowed},
            )
        try:
            return self._adapter.validate_python(cleaned)
        except ValidationError as exc:
            raise self._invalid(operation, exc) from None

    def _invalid(self, operation: str, exc: ValidationError) -> InvalidInput:
        model = self._operations[operation].model
        accepted = [name for name in model.model_fields if name != "operation"]
        problems = []
        for error in exc.errors(include_url=False, include_context=False):
            loc = error["loc"][1:]  # drop the union tag
            where = ".".join(str(part) for part in loc) or "(arguments)"
            if error["type"] == "extra_forbidden":
                message = f"is not an argument of operation '{operation}'"
            else:
                message = _problem(error, self.parameters, loc)
            problems.append({"field": where, "problem": message})
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        return InvalidInput(
            f"invalid arguments for {self.name} operation '{operation}': {summary}",
            recovery_steps=[
                f"Operation '{operation}' accepts: {', '.join(accepted) or '(no other arguments)'}.",
                "Fix the fields listed in details.problems and call again.",
            ],
            details={"operation": operation, "problems": problems},
        )


# pydantic error types that mean "the value has the wrong shape": the model is shown the shape.
_SHAPE_ERRORS = frozenset(
    {"model_type", "model_attributes_type", "dict_type", "list_type", "tuple_type", "is_instance_of"}
)


def _problem(error: Any, schema: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """A validation problem in the published schema's words, never a class name of ours:
    a wrong shape is answered with the expected shape and an example."""
    if error["type"] not in _SHAPE_ERRORS:
        return str(error["msg"])
    expected = _schema_at(schema, loc)
    if expected is None:
        return "has the wrong shape"
    kind = {"object": "an object", "array": "a list"}.get(expected.get("type", ""), "a value")
    return f"must be {kind} like {json.dumps(_example(expected), ensure_ascii=False)}"


def _schema_at(schema: dict[str, Any], loc: tuple[Any, ...]) -> dict[str, Any] | None:
    """The part of a tool's input schema that describes the value at ``loc``."""
    node: dict[str, Any] | None = schema
    for part in loc:
        if node is None:
            return None
        if isinstance(part, int):
            node = node.get("items")
        else:
            node = node.get("properties", {}).get(part) or node.get("additionalProperties") or None
            if node is None:
                return None
        if isinstance(node, dict) and "anyOf" in node:  # X | list[X] | None: the first object-like variant
            node = next((v for v in node["anyOf"] if v.get("type") in {"object", "array"}), node)
    return node if isinstance(node, dict) else None


def _example(schema: dict[str, Any], depth: int = 0) -> Any:
    """A small value of ``schema``'s shape: required fields and the first few others."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], depth)
    kind = schema.get("type")
    if kind == "object" and depth < 3:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        shown = [*required, *[name for name in properties if name not in required]][:4]
        values = schema.get("additionalProperties") or next(iter(schema.get("patternProperties", {}).values()), None)
        if not properties and isinstance(values, dict):  # a mapping: one made-up key
            return {"column": _example(values, depth + 1)}
        return {name: _example(properties[name], depth + 1) for name in shown}
    if kind == "array" and depth < 3:
        return [_example(schema.get("items", {}), depth + 1)]
    return {"string": "text", "integer": 1, "number": 1.5, "boolean": True}.get(kind or "", "value")


async def tool_boundary(tool: str, work: Callable[[], Awaitable[Answer | ToolResult]]) -> ToolResult:
    """Run ``work`` and turn its outcome into a tool result, errors included. A ``ToolResult`` passes
    as it is (a multi-round tool's ``InputRequiredToolResult``)."""
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
    return answer if isinstance(answer, ToolResult) else answer.to_tool_result()


class ModelTool(Tool):
    """A tool whose arguments are exactly one pydantic model."""

    _model: type[BaseModel] = PrivateAttr()
    _handler: Callable[[Any], Awaitable[Answer | ToolResult]] = PrivateAttr()

    @classmethod
    def build(
        cls,
        *,
        name: str,
        title: str,
        description: str,
        model: type[BaseModel],
        handler: Callable[[Any], Awaitable[Answer | ToolResult]],
        annotations: ToolAnnotations,
        scope: str,
    ) -> ModelTool:
        tool = cls(
            name=name,
            title=title,
            description=description,
            parameters=model_schema(model),
            annotations=annotations,
            tags=scope_tags(scope),
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
            if error["type"] == "extra_forbidden":
                message = f"is not an argument of {self.name}"
            else:
                message = _problem(error, self.parameters, error["loc"])
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
    clean: dict[str, Any] = _strip_titles(_inline_refs(schema, defs))
    clean.pop("description", None)  # the model's docstring; the tool's description says it better
    clean["additionalProperties"] = False
    return clean


def flat_schema(models: list[type[BaseModel]]) -> dict[str, Any]:
    """One JSON schema object holding every operation's fields, refs inlined, titles dropped.

    A field shared by several operations must have the same schema in each (checked here,
    at start-up), so the flat view never lies about a field's type.
    """
    properties: dict[str, Any] = {}
    described: dict[str, list[tuple[str, str]]] = {}  # field -> (operation, its description there)
    operations: list[tuple[str, str]] = []
    for model in models:
        schema = model.model_json_schema()
        defs = schema.get("$defs", {})
        op_name = schema["properties"]["operation"]["const"]
        operations.append((op_name, (model.__doc__ or "").strip().splitlines()[0]))
        for prop, prop_schema in schema["properties"].items():
            if prop == "operation":
                continue
            clean = _non_null(_strip_titles(_inline_refs(prop_schema, defs)))
            if prop in properties and _without_description(properties[prop]) != _without_description(clean):
                raise TypeError(f"field {prop!r} has different schemas across operations of one tool")
            properties.setdefault(prop, clean)
            described.setdefault(prop, []).append((op_name, clean.get("description", "")))
    for prop, uses in described.items():
        description = _description_per_operation(uses, everywhere=len(uses) == len(models))
        if description:
            properties[prop]["description"] = description
        else:
            properties[prop].pop("description", None)
    operation_schema = {
        "type": "string",
        "enum": [name for name, _ in operations],
        "description": "What to do: " + "; ".join(f"{name}: {doc}" for name, doc in operations),
    }
    return {
        "type": "object",
        "properties": {"operation": operation_schema, **properties},
        "required": ["operation"],
        "additionalProperties": False,
    }


def _description_per_operation(uses: list[tuple[str, str]], *, everywhere: bool) -> str:
    """A shared field's description as each operation means it.

    One meaning for every operation is said once; one meaning for some operations names them;
    different meanings are said per operation ("describe, select: the table to read. search:
    only this table ..."), so the model never reads one operation's wording for another's.
    """
    by_text: dict[str, list[str]] = {}
    for operation, text in uses:
        by_text.setdefault(text, []).append(operation)
    if len(by_text) == 2 and "" in by_text:  # an operation that says nothing means what the other says
        by_text = {text: [op for op, _ in uses] for text in by_text if text}
    if len(by_text) == 1:
        text = next(iter(by_text))
        return text if everywhere else f"{text} (operations: {', '.join(op for op, _ in uses)})".strip()
    return " ".join(f"{', '.join(ops)}: {text}" for text, ops in by_text.items() if text)


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


def _non_null(node: dict[str, Any]) -> dict[str, Any]:
    """``X | None = None`` published as plain ``X``: a null argument is treated as absent."""
    variants = node.get("anyOf")
    if isinstance(variants, list):
        others = [v for v in variants if v != {"type": "null"}]
        if len(others) == 1 and len(others) < len(variants):
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            node = {**others[0], **rest}
    if "default" in node and node["default"] is None:
        node = {k: v for k, v in node.items() if k != "default"}
    return node


def _without_description(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key != "description"}
