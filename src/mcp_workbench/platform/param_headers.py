"""``Mcp-Param-*`` header checks without a tools/list per call (2026-07-28 era over HTTP).

On every tools/call, mcp 2.3 compares the request's ``Mcp-Param-*`` headers with the
arguments the tool's input schema marks with ``x-mcp-header``. Unless the low-level server
has ``get_tool_input_schema``, it finds that schema by running a whole tools/list through
FastMCP's middleware, on every call: the cost grows with the catalog. The catalog is fixed
once ``build_server`` returns, so it is read once, when the app starts, and a dictionary
answers from then on.

Hidden tools. The tools/list walk finds only the tools *this caller* may see; for any other
it answers "nothing to validate" and the call goes on to dispatch, where the scope check
refuses it. ``get_tool_input_schema`` is called before any middleware and sees only the name,
so this lookup asks ``may_use(name)`` (the caller's scopes, read from the request in
progress) and answers nothing for a tool the caller may not use: no schema detail of a
hidden tool shows up in a header-mismatch error, and the caller still gets the same refusal.
A schema without any ``x-mcp-header`` validates nothing either way, so such tools (today,
all of ours) are answered "nothing" at once, without asking who calls.

Until the catalog has been read, and after the app stops, the hook the server had before
answers (FastMCP's own schema cache since FastMCP 4.2; mcp's tools/list walk without one).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastmcp import FastMCP
from mcp.shared.inbound import x_mcp_header_map
from starlette.applications import Starlette

log = logging.getLogger("mcp_workbench.param_headers")


class ParamSchemaLookup:
    """``name -> inputSchema`` for the tools whose schema declares an ``Mcp-Param-*`` header."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]], may_use: Callable[[str], bool]) -> None:
        self._schemas = {name: schema for name, schema in schemas.items() if x_mcp_header_map(schema)}
        self._may_use = may_use

    @property
    def annotated(self) -> frozenset[str]:
        return frozenset(self._schemas)

    def __call__(self, name: str) -> Mapping[str, Any] | None:
        schema = self._schemas.get(name)
        if schema is None or not self._may_use(name):
            return None
        return schema


async def published_schemas(mcp: FastMCP) -> dict[str, dict[str, Any]]:
    """Each tool's input schema as tools/list publishes it (through the middleware: dereferenced)."""
    tools = await mcp.list_tools()
    return {tool.name: tool.to_mcp_tool(name=tool.name).input_schema for tool in tools}


def install_param_schema_lookup(mcp: FastMCP, app: Starlette, may_use: Callable[[str], bool]) -> None:
    """Read the catalog when ``app`` starts, then answer mcp's schema questions from it."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(starlette: Starlette) -> AsyncIterator[Any]:
        before = mcp._mcp_server.get_tool_input_schema
        async with inner(starlette) as state:
            try:
                lookup = ParamSchemaLookup(await published_schemas(mcp), may_use)
            except Exception:  # an optimisation must not stop the server: mcp's own walk still works
                log.exception("reading the tool catalog failed; Mcp-Param checks list the tools on each call")
            else:
                mcp._mcp_server.get_tool_input_schema = lookup  # the SDK's documented hook, on FastMCP's server
                log.debug("Mcp-Param schema lookup installed", extra={"annotated_tools": sorted(lookup.annotated)})
            try:
                yield state
            finally:
                mcp._mcp_server.get_tool_input_schema = before

    app.router.lifespan_context = lifespan
