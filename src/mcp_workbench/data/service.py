"""The data capability's handlers: plain async functions from arguments to answers.

This is the seam between the tool adapter (which validates and maps errors) and the domain
modules (which know nothing of MCP). Each handler picks the source, calls one domain
function, and shapes its result as text plus structured data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import anyio.to_thread

from mcp_workbench.data import privileges, query, search, sqlread, writes
from mcp_workbench.data.models import (
    CountArgs,
    CreateTableArgs,
    DeleteArgs,
    DescribeArgs,
    DropTableArgs,
    InsertArgs,
    SearchArgs,
    SelectArgs,
    SourcesArgs,
    SqlArgs,
    TablesArgs,
    UpdateArgs,
)
from mcp_workbench.data.privileges import Finding
from mcp_workbench.data.render import json_text, page_text, table_text
from mcp_workbench.data.schema import SchemaCatalog
from mcp_workbench.data.sources import SourceRegistry
from mcp_workbench.platform.errors import WorkbenchError
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.platform.tools import Answer
from mcp_workbench.settings import Settings

MAX_SCHEMA_TABLES = 200
# Pages whose JSON is larger than this get their text table built in a worker thread: a large
# page would hold the event loop for milliseconds; a small one costs less than the thread hop.
_TEXT_IN_THREAD_BYTES = 64 * 1024


log = logging.getLogger("mcp_workbench.data")


class DataService:
    """Sources, their schema cache, and one handler per operation."""

    name = "data"

    def __init__(self, settings: Settings) -> None:
        self.registry = SourceRegistry(settings)
        self.catalog = SchemaCatalog()

    async def aclose(self) -> None:
        await self.registry.aclose()

    async def check(self) -> dict[str, str | None]:
        """Readiness: every source answers ``SELECT 1``."""
        sources = self.registry.all()
        problems = await asyncio.gather(*(source.ping() for source in sources))
        return {f"database:{source.name}": problem for source, problem in zip(sources, problems, strict=True)}

    async def audit(self, names: Iterable[str] | None = None) -> list[Finding]:
        """Every source's connection risks (a superuser, server-file rights, dblink, ...); only
        the sources ``names`` if given."""
        sources = [s for s in self.registry.all() if names is None or s.name in set(names)]
        found = await asyncio.gather(*(privileges.audit(source) for source in sources))
        return [finding for findings in found for finding in findings]

    async def log_reachability(self) -> list[str]:
        """Log whether each PostgreSQL source answers, naming the cause when it does not (wrong
        credentials look different from a database that is down); the names of those that answer."""
        sources = [source for source in self.registry.all() if source.dialect != "sqlite"]
        problems = await asyncio.gather(*(source.ping() for source in sources))
        for source, problem in zip(sources, problems, strict=True):
            if problem is None:
                log.info("data source answers", extra={"source": source.name})
            else:
                log.warning(
                    "data source %r does not answer: %s (the server runs; calls to it fail until it does)",
                    source.name,
                    problem,
                    extra={"source": source.name},
                )
        return [source.name for source, problem in zip(sources, problems, strict=True) if problem is None]

    def samples(self) -> Iterator[Sample]:
        for source in self.registry.all():
            for state, count in source.pool_usage().items():
                yield Sample(
                    "db_pool_connections",
                    "Database connections per source by state.",
                    count,
                    {"source": source.name, "state": state},
                )
            yield Sample(
                "db_pool_usage_ratio",
                "Connections in use over the most the source's fullest pool may open (1: calls wait).",
                source.pool_fill(),
                {"source": source.name},
            )

    # --- data_read ------------------------------------------------------------------------

    async def sources(self, args: SourcesArgs) -> Answer:
        listed = [source.describe() for source in self.registry.all()]
        lines = [f"{s['name']}: {s['engine']}{' (read-only)' if s['read_only'] else ''}" for s in listed]
        return Answer("Data sources:\n" + "\n".join(lines), {"sources": listed})

    async def tables(self, args: TablesArgs) -> Answer:
        source = self.registry.get(args.source)
        tables = await self.catalog.tables(source, refresh=True)
        listed = [{"name": name, "kind": kind} for name, kind in tables.items()]
        if not listed:
            text = f"Source '{source.name}' has no tables yet." + (
                "" if source.read_only else " Create one with data_write operation 'create_table'."
            )
        else:
            text = f"Tables of '{source.name}':\n" + "\n".join(
                f"{t['name']}{' (view)' if t['kind'] == 'view' else ''}" for t in listed
            )
        return Answer(text, {"source": source.name, "tables": listed})

    async def describe(self, args: DescribeArgs) -> Answer:
        source = self.registry.get(args.source)
        table = await self.catalog.table(source, args.table)
        data = {"source": source.name, **table.describe()}
        rows = [
            [c.name, c.type, "yes" if c.nullable else "no", c.default, "PK" if c.primary_key else ""]
            for c in table.columns
        ]
        text = f"{table.kind.capitalize()} '{table.name}' in '{source.name}':\n" + table_text(
            ["column", "type", "nullable", "default", "key"], rows
        )
        if table.indexes:
            text += "\nIndexes: " + "; ".join(f"{i['name']}({', '.join(i['columns'] or [])})" for i in table.indexes)
        if table.foreign_keys:
            text += "\nForeign keys: " + "; ".join(
                f"{', '.join(f['columns'])} -> {f['references_table']}({', '.join(f['references_columns'])})"
                for f in table.foreign_keys
            )
        return Answer(text, data)

    async def select(self, args: SelectArgs) -> Answer:
        source = self.registry.get(args.source)
        page = await query.select_rows(source, self.catalog, args)
        return Answer(await _page_text(page, f"'{args.table}'"), page.to_dict())

    async def count(self, args: CountArgs) -> Answer:
        source = self.registry.get(args.source)
        total = await query.count_rows(source, self.catalog, args)
        suffix = " matching the filters" if args.where else ""
        return Answer(f"{total} row(s) in '{args.table}'{suffix}.", {"table": args.table, "count": total})

    async def search(self, args: SearchArgs) -> Answer:
        source = self.registry.get(args.source)
        found = await search.search(source, self.catalog, args)
        data = found.to_dict()
        if not found.hits:
            text = f"No match for {args.query!r} in {len(found.tables_searched)} table(s)."
        else:
            lines = [f"{len(found.hits)} match(es) for {args.query!r}:"]
            lines += [f"[{hit['table']}] {json_text(hit['row']).replace(chr(10), '')}" for hit in found.hits]
            text = "\n".join(lines)
        if found.truncated:
            text += "\nMore matches exist: narrow the query, name a table, or raise limit."
        if found.partial_tables:
            text += f"\nOnly the first rows of {', '.join(found.partial_tables)} were scanned (no full-text index)."
        return Answer(text, data)

    async def sql(self, args: SqlArgs) -> Answer:
        source = self.registry.get(args.source)
        page = await sqlread.run_sql(source, args)
        return Answer(await _page_text(page, "the statement", paged_by_offset=False), page.to_dict())

    # --- data_write -----------------------------------------------------------------------

    async def insert(self, args: InsertArgs) -> Answer:
        return self._write_answer(await writes.insert_rows(self.registry.get(args.source), self.catalog, args))

    async def update(self, args: UpdateArgs) -> Answer:
        return self._write_answer(await writes.update_rows(self.registry.get(args.source), self.catalog, args))

    async def delete(self, args: DeleteArgs) -> Answer:
        return self._write_answer(await writes.delete_rows(self.registry.get(args.source), self.catalog, args))

    async def create_table(self, args: CreateTableArgs) -> Answer:
        return self._write_answer(await writes.create_table(self.registry.get(args.source), self.catalog, args))

    async def drop_table(self, args: DropTableArgs) -> Answer:
        return self._write_answer(await writes.drop_table(self.registry.get(args.source), self.catalog, args))

    @staticmethod
    def _write_answer(outcome: writes.WriteOutcome) -> Answer:
        verb = {
            "insert": "inserted",
            "update": "updated",
            "delete": "deleted",
            "create_table": "created",
            "drop_table": "dropped",
        }[outcome.operation]
        if outcome.operation in ("create_table", "drop_table"):
            done = outcome.extra.get("created", outcome.extra.get("dropped", True))
            if outcome.dry_run:
                text = f"Dry run: table '{outcome.table}' would be {verb}; nothing was changed."
            elif done:
                text = f"Table '{outcome.table}' {verb}."
            else:
                text = f"Nothing to do: table '{outcome.table}' {outcome.extra.get('reason')}."
            if "ddl" in outcome.extra:
                text += f"\n{outcome.extra['ddl']}"
            if outcome.extra.get("rows_lost"):
                text += f"\nRows {'that would be' if outcome.dry_run else ''} lost: {outcome.extra['rows_lost']}."
        elif outcome.dry_run:
            text = f"Dry run: {outcome.affected} row(s) in '{outcome.table}' would be {verb}; nothing was changed."
        else:
            text = f"{outcome.affected} row(s) {verb} in '{outcome.table}'."
        return Answer(text, outcome.to_dict())

    # --- completions ----------------------------------------------------------------------

    async def complete(self, ref: Any, argument: Any, context: Any) -> list[str] | None:
        """Source and table names for the table template and the explore prompt; None otherwise."""
        from mcp_workbench.data.server import EXPLORE_PROMPT_NAME, TABLE_TEMPLATE

        if getattr(ref, "uri", None) != TABLE_TEMPLATE and getattr(ref, "name", None) != EXPLORE_PROMPT_NAME:
            return None
        prefix = argument.value.lower()
        if argument.name == "source":
            return [n for n in self.registry.names() if n.lower().startswith(prefix)]
        if argument.name == "table":
            source = ((context.arguments or {}) if context else {}).get("source", "workspace")
            try:
                names = await self.table_names(source)
            except WorkbenchError:
                return []
            return [n for n in names if n.lower().startswith(prefix)]
        return None

    # --- resources ------------------------------------------------------------------------

    async def schema_document(self, source_name: str) -> dict[str, Any]:
        source = self.registry.get(source_name)
        tables = await self.catalog.tables(source, refresh=True)
        described = [(await self.catalog.table(source, name)).describe() for name in list(tables)[:MAX_SCHEMA_TABLES]]
        return {**source.describe(), "tables": described, "truncated": len(tables) > MAX_SCHEMA_TABLES}

    async def table_document(self, source_name: str, table: str) -> dict[str, Any]:
        source = self.registry.get(source_name)
        return {"source": source.name, **(await self.catalog.table(source, table)).describe()}

    async def table_names(self, source_name: str) -> list[str]:
        source = self.registry.get(source_name)
        return list(await self.catalog.tables(source))


async def _page_text(page: query.Page, what: str, *, paged_by_offset: bool = True) -> str:
    if page.json_bytes <= _TEXT_IN_THREAD_BYTES:
        return page_text(page, what, paged_by_offset=paged_by_offset)
    return await anyio.to_thread.run_sync(lambda: page_text(page, what, paged_by_offset=paged_by_offset))
