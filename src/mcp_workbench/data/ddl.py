"""Column definitions for ``create_table``: types, keys, and defaults that reach the database
exactly as given.

A default is a value, not SQL: it is checked against the column's type like any inserted
value (so ``NaN``, ``Infinity``, an integer beyond 64 bits or a date that does not parse is a
VALIDATION_ERROR), then rendered by SQLAlchemy as a literal of the dialect. It never passes
through ``text()``, whose ``:name`` bind-parameter syntax would rewrite ``'ratio :x'``.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from mcp_workbench.data.models import ColumnSpec
from mcp_workbench.data.values import coerce
from mcp_workbench.platform.errors import InvalidInput

TYPES: dict[str, Any] = {
    "integer": sa.Integer,
    "bigint": sa.BigInteger,
    "real": sa.Float,
    "numeric": sa.Numeric,
    "text": sa.Text,
    "boolean": sa.Boolean,
    "date": sa.Date,
    "datetime": sa.DateTime,
    "time": sa.Time,
    "blob": sa.LargeBinary,
    "json": sa.JSON,
    "uuid": sa.Uuid,
}


def column_for(spec: ColumnSpec) -> sa.Column[Any]:
    sa_type = TYPES[spec.type]()
    kwargs: dict[str, Any] = {
        "primary_key": spec.primary_key,
        "nullable": spec.nullable and not spec.primary_key,
        "unique": spec.unique or None,
    }
    if spec.default is not None:
        kwargs["server_default"] = server_default(spec.default, sa_type, spec.name)
    return sa.Column(spec.name, sa_type, **kwargs)


def server_default(value: Any, sa_type: Any, name: str) -> Any:
    """The DEFAULT clause's value: checked against the column's type, rendered as a literal."""
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad_default(name, value, "it is not a finite number")
    coerce(value, sa_type, name)  # the same check an inserted value gets (finite, in range, parses)
    if isinstance(value, (int, float)) and isinstance(sa_type, (sa.Integer, sa.Numeric)):
        return sa.literal_column(repr(value))  # a number's repr is digits, '.', 'e', sign: emitted as is
    return str(value)  # SQLAlchemy renders a string default as a quoted literal, escaped for the dialect


def _bad_default(name: str, value: Any, reason: str) -> InvalidInput:
    return InvalidInput(
        f"the default {value!r} of column '{name}' is not allowed: {reason}",
        recovery_steps=[f"Give column '{name}' a finite default value, or none."],
        details={"column": name, "field": "default"},
    )
