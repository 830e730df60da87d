"""Argument models of the data tools, one per operation.

Every field is bounded (length, count) so an oversized request is a VALIDATION_ERROR before
any database is touched. Bounds that depend on configuration (``max_rows``,
``max_write_rows``) are checked again by the domain code against the settings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_IDENTIFIER = 128
MAX_FILTERS = 50
MAX_IN_VALUES = 1000
MAX_VALUE_CHARS = 1_000_000
MAX_SQL_CHARS = 100_000

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_IDENTIFIER, pattern=r"^[^\x00-\x1f]+$"),
]
NewIdentifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"),
    Field(description="Letters, digits and underscores; starts with a letter or underscore; at most 63."),
]
Text = Annotated[str, StringConstraints(max_length=MAX_VALUE_CHARS)]
Scalar = Text | int | float | bool | None

SourceName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="Data source name; see operation 'sources'."),
]

FilterOp = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "like", "is_null", "is_not_null"]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Filter(_Args):
    """One condition; all conditions of a request must hold (AND)."""

    column: Identifier
    op: FilterOp = Field(default="=", description="Comparison; 'like' uses % and _ wildcards.")
    value: Scalar | Annotated[list[Scalar], Field(max_length=MAX_IN_VALUES)] = Field(
        default=None, description="A scalar; a list for in/not_in; omitted for is_null/is_not_null."
    )

    @model_validator(mode="after")
    def _value_fits_op(self) -> Filter:
        if self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"op '{self.op}' needs a non-empty list value")
        elif self.op in ("is_null", "is_not_null"):
            if self.value is not None:
                raise ValueError(f"op '{self.op}' takes no value")
        elif isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs a single value, not a list")
        elif self.value is None:
            raise ValueError(f"op '{self.op}' needs a value; use is_null to match NULL")
        elif self.op == "like" and not isinstance(self.value, str):
            raise ValueError("op 'like' needs a string pattern")
        return self


class OrderBy(_Args):
    column: Identifier
    desc: bool = False


ExistingTable = Annotated[Identifier, Field(description="A table or view of the source; see data_read 'tables'.")]
Where = Annotated[list[Filter], Field(max_length=MAX_FILTERS, description="Conditions, combined with AND.")]
Limit = Annotated[int, Field(ge=1, le=100_000, description="Rows per page (capped by the server's max_rows).")]
Offset = Annotated[int, Field(ge=0, le=1_000_000_000, description="Rows to skip; use next_offset to page.")]


# --- data_read ---------------------------------------------------------------------------


class SourcesArgs(_Args):
    """list the configured data sources"""

    operation: Literal["sources"]
    source: SourceName = "workspace"


class TablesArgs(_Args):
    """list tables and views of a source"""

    operation: Literal["tables"]
    source: SourceName = "workspace"


class DescribeArgs(_Args):
    """columns, types, keys and indexes of a table"""

    operation: Literal["describe"]
    source: SourceName = "workspace"
    table: ExistingTable


class SelectArgs(_Args):
    """rows of a table, filtered, ordered and paginated"""

    operation: Literal["select"]
    source: SourceName = "workspace"
    table: ExistingTable
    columns: Annotated[list[Identifier], Field(max_length=500)] | None = Field(
        default=None, description="Columns to return; all when omitted."
    )
    where: Where = Field(default_factory=list)
    order_by: Annotated[list[OrderBy], Field(max_length=10)] = Field(
        default_factory=list,
        description="Sort keys, most significant first: [{column, desc}]; without it the order is the database's.",
    )
    limit: Limit | None = None
    offset: Offset = 0


class CountArgs(_Args):
    """number of rows matching the filters"""

    operation: Literal["count"]
    source: SourceName = "workspace"
    table: ExistingTable
    where: Where = Field(default_factory=list)


class SearchArgs(_Args):
    """find text in the text columns of one table or of all tables"""

    operation: Literal["search"]
    source: SourceName = "workspace"
    query: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Text to find (case-insensitive)."
    )
    table: Identifier | None = Field(default=None, description="Search only this table; every table when omitted.")
    limit: Limit | None = None


class SqlArgs(_Args):
    """one read-only SQL statement (SELECT, WITH ... SELECT, VALUES, EXPLAIN)"""

    operation: Literal["sql"]
    source: SourceName = "workspace"
    sql: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SQL_CHARS)] = Field(
        description="A single read-only statement; use ? placeholders for params."
    )
    params: Annotated[list[Scalar], Field(max_length=1000)] = Field(
        default_factory=list, description="Values bound to the ? placeholders, in order."
    )
    limit: Limit | None = None


# --- data_write --------------------------------------------------------------------------

ColumnType = Literal[
    "integer", "bigint", "real", "numeric", "text", "boolean", "date", "datetime", "time", "blob", "json", "uuid"
]
Row = Annotated[dict[Identifier, Scalar], Field(min_length=1, max_length=500)]
DryRun = Annotated[bool, Field(description="Report what would change and change nothing.")]


class ColumnSpec(_Args):
    name: NewIdentifier
    type: ColumnType
    primary_key: bool = False
    nullable: bool = True
    unique: bool = False
    default: Scalar = Field(default=None, description="Default value for new rows.")


class InsertArgs(_Args):
    """add one or many rows"""

    operation: Literal["insert"]
    source: SourceName = "workspace"
    table: ExistingTable
    rows: Annotated[list[Row], Field(min_length=1, max_length=100_000)] = Field(
        description="Rows to add, each an object of column: value; columns left out get their default."
    )
    dry_run: DryRun = False


class UpdateArgs(_Args):
    """change rows matching filters (all rows only with all_rows=true)"""

    operation: Literal["update"]
    source: SourceName = "workspace"
    table: ExistingTable
    values: Row = Field(description="Columns to set, as column: value, on every matching row.")
    where: Where = Field(default_factory=list)
    all_rows: bool = Field(default=False, description="Required to touch every row (no where).")
    dry_run: DryRun = False


class DeleteArgs(_Args):
    """remove rows matching filters (all rows only with all_rows=true)"""

    operation: Literal["delete"]
    source: SourceName = "workspace"
    table: ExistingTable
    where: Where = Field(default_factory=list)
    all_rows: bool = Field(default=False, description="Required to touch every row (no where).")
    dry_run: DryRun = False


class CreateTableArgs(_Args):
    """create a table from a column spec"""

    operation: Literal["create_table"]
    source: SourceName = "workspace"
    table: Identifier = Field(description="Name of the new table: letters, digits, underscores.")
    columns: Annotated[list[ColumnSpec], Field(min_length=1, max_length=200)] = Field(
        description="The new table's columns: [{name, type, primary_key, nullable, unique, default}]."
    )
    if_not_exists: bool = Field(default=False, description="Succeed without change if the table exists.")
    dry_run: DryRun = False


class DropTableArgs(_Args):
    """delete a table and all its rows"""

    operation: Literal["drop_table"]
    source: SourceName = "workspace"
    table: ExistingTable
    if_exists: bool = Field(default=False, description="Succeed without change if the table is absent.")
    dry_run: DryRun = False
