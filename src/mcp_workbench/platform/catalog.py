"""What the server offers, read once: for each component a request can name, the facts the
call layer needs about it, so that a request costs a dictionary lookup.

For every tool, resource, resource template and prompt: its scope (the tag it was registered
with, :func:`~mcp_workbench.platform.auth.scope_of`), the tool whose rate limit and time budget
it spends from, and the only values metrics may use for it (its own name, and for a tool its
operations: the literals of its discriminated union). Anything a caller names that is not
here is labelled ``other``, so callers cannot grow the metrics.

Resources, prompts and completions spend from the budget of the tool with the same scope,
preferring a read-only one: reading ``data://…`` costs like a ``data_read`` call, a completion
of a ``files://`` path like a ``files_read`` call. A component whose scope no tool has spends
from a budget of its own kind (``resources/read``, ``prompts/get``), under the default limit.

The catalog is read on the first request (every component is registered by then: the
capabilities register theirs while the server is built), through the server's own listings.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_workbench.platform.auth import scope_of
from mcp_workbench.platform.errors import NotFound

if TYPE_CHECKING:
    from fastmcp import FastMCP
    from fastmcp.resources.template import ResourceTemplate

OTHER = "other"
"""The metrics label of a name or operation the catalog does not hold."""

_SHOWN = 64  # characters of a caller's unknown name that an error message repeats


@dataclass(frozen=True, slots=True)
class Entry:
    """One component as the call layer sees it."""

    name: str  # the component's own name: its metrics label
    scope: str
    budget: str  # the tool whose rate limit and time budget it spends from
    operations: Mapping[str | None, str] = field(default_factory=dict)  # operation -> metrics label

    def operation_label(self, operation: str | None) -> str:
        return self.operations.get(operation, OTHER)


class Catalog:
    """Tools, resources, resource templates and prompts by the names requests use."""

    def __init__(self) -> None:
        self.loaded = False
        self.tools: dict[str, Entry] = {}
        self.resources: dict[str, Entry] = {}  # by URI
        self.templates: list[tuple[ResourceTemplate, Entry]] = []  # in the order reads try them
        self.template_uris: dict[str, Entry] = {}  # by URI template (completion references)
        self.prompts: dict[str, Entry] = {}

    async def load(self, server: FastMCP) -> Catalog:
        """Read the server's components; built aside and swapped in whole, so two first
        requests that both load leave one consistent catalog."""
        tools = await server.list_tools(run_middleware=False)
        budgets: dict[str, str] = {}
        by_name: dict[str, Entry] = {}
        for tool in sorted(tools, key=lambda t: not _read_only(t)):  # read-only tools first
            scope = scope_of(tool)
            budgets.setdefault(scope, tool.name)
            by_name[tool.name] = Entry(tool.name, scope, tool.name, _operation_labels(tool))

        def entry(component: Any, kind: str) -> Entry:
            scope = scope_of(component)
            return Entry(component.name, scope, budgets.get(scope, kind))

        resources = await server.list_resources(run_middleware=False)
        templates = await server.list_resource_templates(run_middleware=False)
        prompts = await server.list_prompts(run_middleware=False)
        self.resources = {str(resource.uri): entry(resource, "resources/read") for resource in resources}
        self.templates = [(template, entry(template, "resources/read")) for template in templates]
        self.template_uris = {template.uri_template: found for template, found in self.templates}
        self.prompts = {prompt.name: entry(prompt, "prompts/get") for prompt in prompts}
        self.tools = by_name
        self.loaded = True
        return self

    def resource(self, uri: str) -> Entry | None:
        """The resource or template a read of ``uri`` reaches (concrete resources first, as FastMCP)."""
        found = self.resources.get(uri)
        if found is not None:
            return found
        for template, entry in self.templates:
            if template.matches(uri) is not None:
                return entry
        return None

    def completion(self, ref: Any) -> Entry | None:
        """The prompt or resource template a completion reference names (raw params or a model)."""
        kind, name, uri = _ref_fields(ref)
        if kind == "ref/prompt" and isinstance(name, str):
            return self.prompts.get(name)
        if kind == "ref/resource" and isinstance(uri, str):
            return self.template_uris.get(uri) or self.resources.get(uri)
        return None

    def unknown_tool(self, name: str, may_use: Callable[[Entry], bool]) -> NotFound:
        """The answer to a call of a tool that is absent, or hidden from this caller: the same
        for both, naming only tools the caller may use."""
        shown = name if len(name) <= _SHOWN else name[:_SHOWN] + "…"
        visible = [tool for tool, entry in self.tools.items() if may_use(entry)]
        suggestions = difflib.get_close_matches(name[:_SHOWN].lower(), visible, n=3)
        steps = [f"Did you mean {' or '.join(suggestions)}?"] if suggestions else []
        steps.append(f"Call one of the tools listed by tools/list: {', '.join(sorted(visible)) or '(none)'}.")
        return NotFound(
            f"unknown tool {shown!r}", recovery_steps=steps, details={"tool": shown, "did_you_mean": suggestions}
        )


def _read_only(tool: Any) -> bool:
    return bool(tool.annotations and tool.annotations.read_only_hint)


def _operation_labels(tool: Any) -> dict[str | None, str]:
    operations: Iterable[str] = getattr(tool, "operation_names", ())
    return {None: "", **{operation: operation for operation in operations}}


def _ref_fields(ref: Any) -> tuple[Any, Any, Any]:
    if isinstance(ref, Mapping):
        return ref.get("type"), ref.get("name"), ref.get("uri")
    return getattr(ref, "type", None), getattr(ref, "name", None), getattr(ref, "uri", None)
