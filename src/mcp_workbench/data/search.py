"""Finding text across the text columns of one table or of all tables.

Where the engine has a full-text index for the table it is used and ranked: an SQLite FTS5
table, or a PostgreSQL table with a ``tsvector`` column. Otherwise a case-insensitive
substring match runs over the text columns, bounded: at most ``search_scan_rows`` rows per
table and ``search_max_tables`` tables, so a search over a large database answers within
its budget and says when it looked at only part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR

from mcp_workbench.data.models import SearchArgs
from mcp_workbench.data.paging import page_limit
from mcp_workbench.data.schema import SchemaCatalog, TableInfo
from mcp_workbench.data.sources import Source
from mcp_workbench.data.values import to_json


@dataclass
class SearchResult:
    query: str
    hits: list[dict[str, Any]] = field(default_factory=list)
    tables_searched: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # table -> "fts5" | "tsvector" | "scan"
    partial_tables: list[str] = field(default_factory=list)  # scan cap reached
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "hits": self.hits,
            "hit_count": len(self.hits),
            "truncated": self.truncated,
            "tables_searched": self.tables_searched,
            "methods": self.methods,
            "partially_scanned_tables": self.partial_tables,
        }


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(source: Source, catalog: SchemaCatalog, args: SearchArgs) -> SearchResult:
    limit = page_limit(args.limit, source.limits)
    result = SearchResult(query=args.query)
    if args.table is not None:
        tables = [await catalog.table(source, args.table)]
    else:
        names = list(await catalog.tables(source))[: source.limits.search_max_tables]
        tables = [await catalog.table(source, name) for name in names]
    for table in tables:
        remaining = limit - len(result.hits)
        if remaining <= 0:
            result.truncated = True
            break
        text_columns = [c.name for c in table.columns if c.is_text]
        tsvectors = [c.name for c in table.columns if isinstance(c.sa_type, TSVECTOR)]
        if not text_columns and not table.fts5 and not tsvectors:
            continue
        result.tables_searched.append(table.name)
        if table.fts5 and source.dialect == "sqlite":
            rows, more = await _fts5(source, table, args.query, remaining)
            result.methods[table.name] = "fts5"
        elif tsvectors:
            rows, more = await _tsvector(source, table, tsvectors, args.query, remaining)
            result.methods[table.name] = "tsvector"
        else:
            rows, more, partial = await _scan(source, table, text_columns, args.query, remaining)
            result.methods[table.name] = "scan"
            if partial:
                result.partial_tables.append(table.name)
        lowered = args.query.lower()
        for row in rows:
            matched = [k for k, v in row.items() if isinstance(v, str) and lowered in v.lower()]
            result.hits.append({"table": table.name, "matched_columns": matched, "row": row})
        if more:
            result.truncated = True
            break
    return result


async def _fts5(source: Source, table: TableInfo, query: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    sa_table = table.sa_table
    phrase = '"' + query.replace('"', '""') + '"'  # one quoted phrase: no FTS query syntax from input
    statement = (
        sa.select(*table.readable())
        # FTS5's hidden column named after the table; SQLAlchemy quotes the name (any name, even one with '"')
        .where(sa.column(sa_table.name).op("MATCH")(phrase))
        .order_by(sa.literal_column("rank"))
        .limit(limit + 1)
    )
    async with source.reading() as conn:
        rows = (await conn.execute(statement)).mappings().fetchall()
    return [{k: to_json(v) for k, v in row.items()} for row in rows[:limit]], len(rows) > limit


async def _tsvector(
    source: Source, table: TableInfo, vectors: list[str], query: str, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """PostgreSQL full text: match the table's tsvector columns (usually GIN-indexed), ranked.

    The query is parsed with both the server's default text search configuration (which
    stems, matching an english-built vector) and 'simple' (exact words).
    """
    sa_table = table.sa_table
    shown = table.readable([c.name for c in table.columns if c.name not in vectors])
    matches = []
    ranks = []
    for name in vectors:
        column = sa_table.c[name]
        for parsed in (sa.func.websearch_to_tsquery(query), sa.func.websearch_to_tsquery("simple", query)):
            matches.append(column.op("@@")(parsed))
            ranks.append(sa.func.ts_rank(column, parsed))
    rank = sa.func.greatest(*ranks) if len(ranks) > 1 else ranks[0]
    statement = sa.select(*shown).where(sa.or_(*matches)).order_by(rank.desc()).limit(limit + 1)
    async with source.reading() as conn:
        rows = (await conn.execute(statement)).mappings().fetchall()
    return [{k: to_json(v) for k, v in row.items()} for row in rows[:limit]], len(rows) > limit


async def _scan(
    source: Source, table: TableInfo, columns: list[str], query: str, limit: int
) -> tuple[list[dict[str, Any]], bool, bool]:
    sa_table = table.sa_table
    cap = source.limits.search_scan_rows
    shown = table.readable([c.name for c in table.columns if not isinstance(c.sa_type, TSVECTOR)])
    window = sa.select(*shown).limit(cap).subquery("workbench_scan")
    pattern = _like_pattern(query)
    if source.dialect == "postgresql":
        matches = [window.c[name].ilike(pattern, escape="\\") for name in columns]
    else:
        matches = [sa.func.lower(window.c[name]).like(pattern.lower(), escape="\\") for name in columns]
    statement = sa.select(*window.c).where(sa.or_(*matches)).limit(limit + 1)
    count_statement = sa.select(sa.func.count()).select_from(
        sa.select(sa.literal(1)).select_from(sa_table).limit(cap + 1).subquery()
    )
    async with source.reading() as conn:
        rows = (await conn.execute(statement)).mappings().fetchall()
        scanned = int((await conn.execute(count_statement)).scalar_one())
    return [{k: to_json(v) for k, v in row.items()} for row in rows[:limit]], len(rows) > limit, scanned > cap
