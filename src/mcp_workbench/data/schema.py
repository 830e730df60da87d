"""What tables and columns a source has, read from the live database and cached.

Every identifier in a request is checked against this before it reaches SQL; the names that
end up in a statement are the database's own, not the caller's strings. The cache is
dropped after our own DDL and refreshed once when a name is not found (someone else may
have created it meanwhile).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Inspector

from mcp_workbench.data.sources import Source
from mcp_workbench.platform.errors import NotFound


class Lenient(sa.types.TypeDecorator[Any]):
    """Reads a value with the column's declared type, or as stored when it does not parse.

    SQLite lets a DATE column hold 'not a date' and a JSON column '{oops'; converting such a
    value must not lose the whole page, so the declared type's converter is tried and the raw
    value kept when it fails.
    """

    impl = sa.types.NullType
    cache_ok = False  # holds the declared type; statements using it are simply not cached

    def __init__(self, declared: Any) -> None:
        super().__init__()
        self.declared = declared

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        convert = self.declared.dialect_impl(dialect).result_processor(dialect, coltype)
        if convert is None:
            return None

        def lenient(value: Any) -> Any:
            try:
                return convert(value)
            except (ValueError, TypeError, ArithmeticError):
                return value

        return lenient


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    sa_type: Any
    nullable: bool
    default: str | None
    primary_key: bool

    @property
    def is_text(self) -> bool:
        return isinstance(self.sa_type, sa.String)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "default": self.default,
            "primary_key": self.primary_key,
        }


@dataclass(frozen=True)
class TableInfo:
    name: str
    kind: str  # "table" | "view"
    columns: tuple[ColumnInfo, ...]
    indexes: tuple[dict[str, Any], ...] = ()
    foreign_keys: tuple[dict[str, Any], ...] = ()
    fts5: bool = False

    @property
    def primary_key(self) -> list[str]:
        return [c.name for c in self.columns if c.primary_key]

    def column(self, name: str) -> ColumnInfo:
        for column in self.columns:
            if column.name == name:
                return column
        names = [c.name for c in self.columns]
        raise NotFound(
            f"table '{self.name}' has no column {name!r}",
            recovery_steps=[f"Use one of its columns: {', '.join(names)}."],
            details={"table": self.name, "column": name, "columns": names, **_suggest(name, names)},
        )

    @cached_property
    def sa_table(self) -> sa.TableClause:
        """A lightweight table construct: SQLAlchemy quotes these names for the dialect."""
        return sa.table(self.name, *(sa.column(c.name, c.sa_type) for c in self.columns))

    def readable(self, names: list[str] | None = None) -> list[Any]:
        """Columns to SELECT: each read with :class:`Lenient`, labelled with its own name."""
        chosen = names if names is not None else [c.name for c in self.columns]
        types = {c.name: c.sa_type for c in self.columns}
        return [sa.type_coerce(self.sa_table.c[name], Lenient(types[name])).label(name) for name in chosen]

    def result_processors(self, names: list[str], dialect: Any, types: list[Any]) -> list[Any]:
        """For each column, the function that turns a value as the driver returns it (with the
        driver's type code, ``types``) into what a :meth:`readable` column reads (None when
        nothing is to be done); one per column, dialect and type code, computed once."""
        cache: dict[tuple[str, str, Any], Any] = self._processors
        found = []
        for name, type_code in zip(names, types, strict=True):
            key = (dialect.name, name, type_code)
            if key not in cache:
                cache[key] = Lenient(self.column(name).sa_type).result_processor(dialect, type_code)
            found.append(cache[key])
        return found

    @cached_property
    def _processors(self) -> dict[tuple[str, str, Any], Any]:
        return {}

    @cached_property
    def browse_sql(self) -> dict[Any, str]:
        """SQL of unfiltered selects of this table, by (columns, order); see ``table_reads.select_rows``."""
        return {}

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.name,
            "kind": self.kind,
            "columns": [c.describe() for c in self.columns],
            "primary_key": self.primary_key,
            "indexes": list(self.indexes),
            "foreign_keys": list(self.foreign_keys),
            "full_text_index": self.fts5,
        }


@dataclass
class _Snapshot:
    tables: dict[str, str]  # name -> kind
    fts5: frozenset[str] = frozenset()
    details: dict[str, TableInfo] = field(default_factory=dict)


def _suggest(name: str, candidates: list[str]) -> dict[str, Any]:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    lowered = [c for c in candidates if c.lower() == name.lower() and c not in close]
    hints = lowered + close
    return {"did_you_mean": hints} if hints else {}


class SchemaCatalog:
    """Per-source cache of table names and table details."""

    def __init__(self) -> None:
        self._snapshots: dict[str, _Snapshot] = {}

    def invalidate(self, source: Source) -> None:
        self._snapshots.pop(source.name, None)

    async def tables(self, source: Source, *, refresh: bool = False) -> dict[str, str]:
        return (await self._snapshot(source, refresh=refresh)).tables

    async def table(self, source: Source, name: str) -> TableInfo:
        snapshot = await self._snapshot(source)
        if name not in snapshot.tables:
            snapshot = await self._snapshot(source, refresh=True)
        if name not in snapshot.tables:
            names = sorted(snapshot.tables)
            raise NotFound(
                f"source '{source.name}' has no table {name!r}",
                recovery_steps=[
                    "List tables with data_read operation 'tables'"
                    + (f" (it has: {', '.join(names[:20])})." if names else "; the source has no tables yet.")
                ],
                details={"source": source.name, "table": name, **_suggest(name, names)},
            )
        info = snapshot.details.get(name)
        if info is None:
            info = await self._reflect_table(source, name, snapshot)
            snapshot.details[name] = info
        return info

    async def _snapshot(self, source: Source, *, refresh: bool = False) -> _Snapshot:
        snapshot = self._snapshots.get(source.name)
        if snapshot is None or refresh:
            async with source.reading() as conn:
                tables, fts5 = await conn.run_sync(_list_tables, source.dialect)
            snapshot = _Snapshot(tables=tables, fts5=fts5)
            self._snapshots[source.name] = snapshot
        return snapshot

    async def _reflect_table(self, source: Source, name: str, snapshot: _Snapshot) -> TableInfo:
        async with source.reading() as conn:
            return await conn.run_sync(_reflect, name, snapshot.tables[name], source.dialect, name in snapshot.fts5)


# CREATE VIRTUAL TABLE [IF NOT EXISTS] [schema.]name USING fts5: the module is read after the
# whole name, so a name that merely contains "USING fts5" (quoted) is not taken for one.
_NAME = r"""(?:"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s."'`\[(]+)"""
_FTS5_DEFINITION = re.compile(
    rf"\s*CREATE\s+VIRTUAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:{_NAME}\s*\.\s*)?{_NAME}\s+USING\s+fts5\b",
    re.IGNORECASE,
)


def _list_tables(sync_conn: sa.Connection, dialect: str) -> tuple[dict[str, str], frozenset[str]]:
    inspector: Inspector = sa.inspect(sync_conn)
    tables = {name: "table" for name in inspector.get_table_names()}
    tables.update({name: "view" for name in inspector.get_view_names()})
    fts5: frozenset[str] = frozenset()
    if dialect == "sqlite":
        rows = sync_conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
        ).fetchall()
        fts5 = frozenset(name for name, sql in rows if _FTS5_DEFINITION.match(sql or ""))
        shadow_suffixes = ("_data", "_idx", "_content", "_docsize", "_config")
        for virtual in fts5:
            for suffix in shadow_suffixes:
                tables.pop(virtual + suffix, None)
        tables = {n: k for n, k in tables.items() if not n.startswith("sqlite_")}
    return dict(sorted(tables.items())), fts5


def _reflect(sync_conn: sa.Connection, name: str, kind: str, dialect: str, fts5: bool) -> TableInfo:
    inspector: Inspector = sa.inspect(sync_conn)
    pk = set(inspector.get_pk_constraint(name).get("constrained_columns") or [])
    columns = []
    for col in inspector.get_columns(name):
        sa_type = col["type"]
        try:
            type_name = sa_type.compile(dialect=sync_conn.dialect)
        except Exception:  # exotic or unknown types still get listed  # noqa: BLE001
            type_name = str(type(sa_type).__name__)
        default = col.get("default")
        columns.append(
            ColumnInfo(
                name=col["name"],
                type=type_name,
                sa_type=sa_type,
                nullable=bool(col.get("nullable", True)),
                default=str(default) if default is not None else None,
                primary_key=col["name"] in pk,
            )
        )
    indexes: list[dict[str, Any]] = []
    foreign_keys: list[dict[str, Any]] = []
    if kind == "table" and not fts5:
        for index in inspector.get_indexes(name):
            indexes.append(
                {"name": index.get("name"), "columns": index.get("column_names"), "unique": bool(index.get("unique"))}
            )
        for fk in inspector.get_foreign_keys(name):
            foreign_keys.append(
                {
                    "columns": fk.get("constrained_columns"),
                    "references_table": fk.get("referred_table"),
                    "references_columns": fk.get("referred_columns"),
                }
            )
    return TableInfo(
        name=name,
        kind=kind,
        columns=tuple(columns),
        indexes=tuple(indexes),
        foreign_keys=tuple(foreign_keys),
        fts5=fts5,
    )
