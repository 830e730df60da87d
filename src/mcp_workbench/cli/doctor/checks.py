"""The checks by name, in the order a report shows them, and running a selection of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from mcp_workbench.cli.doctor import clients, configuration, egress, http, runtime, sources, stdio
from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding

Check = Callable[[Context], Awaitable[list[Finding]]]

CHECKS: dict[str, Check] = {
    "python": runtime.python,
    "bytecode": runtime.bytecode,
    "uv": runtime.uv,
    "config": configuration.config,
    "data-dir": configuration.data_dir,
    "sources": sources.sources,
    "roots": configuration.roots,
    "egress": egress.egress,
    "stdio": stdio.stdio,
    "tool-budget": stdio.tool_budget,
    "clients": clients.clients,
    "http-auth": http.http_auth,
    "sealing-keys": http.sealing_keys,
    "redis": http.redis,
    "research-pacing": http.research_pacing,
    "port": http.port,
}


def unknown(names: Sequence[str]) -> list[str]:
    return [name for name in names if name not in CHECKS]


async def run(ctx: Context, names: Sequence[str] | None = None) -> list[Finding]:
    """The selected checks (all by default), one after another in the registry's order: several
    start processes or open connections, and the report reads top to bottom."""
    selected = [name for name in CHECKS if not names or name in names]
    found: list[Finding] = []
    for name in selected:
        found.extend(await CHECKS[name](ctx))
    return found
