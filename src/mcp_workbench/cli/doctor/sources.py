"""Each data source answers, connects with no more rights than it needs, and a source
configured ``read_only`` cannot write through its role either (PostgreSQL)."""

from __future__ import annotations

import asyncio

from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, skip, warn
from mcp_workbench.data import privileges
from mcp_workbench.data.sources import Source, SourceRegistry
from mcp_workbench.platform.errors import WorkbenchError

# Risks that turn any gap in the server's own checks into a breach of the database server.
SEVERE = frozenset({"superuser", "server_files", "server_program"})


def _fix_url(ctx: Context, source: Source) -> str:
    if source.name == "workspace" and "workspace" not in (ctx.settings.data.sources if ctx.settings else {}):
        return "the embedded workspace lives in the data directory: see the data-dir check"
    return f"correct [data.sources.{source.name}] url, or start the database it names"


async def _check(ctx: Context, source: Source) -> list[Finding]:
    name, url = source.name, source.describe()["url"]
    details = {"engine": source.dialect, "url": url, "read_only": source.read_only}
    mode = "read-only" if source.read_only else "read and write"
    if source.dialect == "sqlite" and not source.sqlite_path.exists():
        if source.read_only:
            return [
                fail(
                    "sources",
                    f"{source.sqlite_path} does not exist (read-only sources are never created)",
                    _fix_url(ctx, source),
                    subject=name,
                    details=details,
                )
            ]
        return [
            ok(
                "sources",
                f"sqlite {source.sqlite_path}: created at the first write ({mode})",
                subject=name,
                details=details,
            )
        ]
    problem = await source.ping()
    if problem is not None:
        return [
            fail("sources", f"{url} does not answer: {problem}", _fix_url(ctx, source), subject=name, details=details)
        ]
    found = []
    for finding in await privileges.audit(source):
        report = fail if finding.risk in SEVERE else warn
        found.append(report("sources", finding.message, finding.remedy, subject=name, details={"risk": finding.risk}))
    if source.read_only and source.dialect == "postgresql":
        try:
            tables = await privileges.writable_tables(source)
        except WorkbenchError as exc:
            tables = []
            found.append(
                warn(
                    "sources",
                    f"the role's table rights could not be read: {exc.message}",
                    privileges.LEAST_PRIVILEGE,
                    subject=name,
                )
            )
        if tables:
            found.append(
                warn(
                    "sources",
                    f"read_only = true, but the role may change {len(tables)} table(s) ({', '.join(tables[:5])}"
                    f"{', ...' if len(tables) > 5 else ''}): only the server's own checks keep it read-only",
                    "connect this source as a role with SELECT only (REVOKE INSERT, UPDATE, DELETE, TRUNCATE ...)",
                    subject=name,
                    details={"writable_tables": tables},
                )
            )
    if source.read_only and source.dialect == "sqlite":
        summary = f"{url} answers; read-only (opened with mode=ro and query_only)"
    elif source.read_only:
        summary = f"{url} answers; read-only (READ ONLY transactions)" + (
            "" if any(f.status != "ok" for f in found) else ", and its role may change no table"
        )
    else:
        summary = f"{url} answers ({mode})"
    return [ok("sources", summary, subject=name, details=details), *found]


async def sources(ctx: Context) -> list[Finding]:
    if ctx.settings is None:
        return [skip("sources", "the configuration does not load (see the config check)")]
    if not ctx.settings.enabled("data"):
        return [ok("sources", "the data tools are off (tools does not include 'data')")]
    registry = SourceRegistry(ctx.settings.data_section())
    try:
        results = await asyncio.gather(*(_check(ctx, source) for source in registry.all()))
    finally:
        await registry.aclose()
    return [finding for found in results for finding in found]
