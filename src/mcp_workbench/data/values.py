"""Values crossing the JSON ↔ database boundary.

Inbound: JSON scalars are coerced to what the column's type expects (asyncpg refuses a
string for a DATE column; SQLite would silently store it as text), with a VALIDATION_ERROR
naming the column when that is impossible. Outbound: database values become JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mcp_workbench.platform.errors import InvalidInput


def coerce(value: Any, sa_type: Any, column: str) -> Any:
    """Turn a JSON scalar into the Python value the column's type binds."""
    if value is None:
        return None
    try:
        return _coerce(value, sa_type)
    except (ValueError, TypeError, decimal.InvalidOperation, OverflowError) as exc:
        type_name = type(sa_type).__name__.lower()
        raise InvalidInput(
            f"value {_preview(value)} does not fit column '{column}' ({type_name})",
            recovery_steps=[f"Give column '{column}' a {_expected(sa_type)} value{_range(sa_type)}."],
            details={"column": column, "column_type": type_name, "reason": str(exc)[:200]},
        ) from None


def _coerce(value: Any, sa_type: Any) -> Any:
    if isinstance(sa_type, sa.Boolean):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise ValueError("expected a boolean")
    if isinstance(sa_type, sa.Integer):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected an integer")
        return check_int64(int(value))
    if isinstance(sa_type, sa.Numeric) and not isinstance(sa_type, sa.Float):
        if isinstance(value, bool):
            raise ValueError("expected a number")
        number = decimal.Decimal(str(value))
        if not number.is_finite():
            raise ValueError("expected a finite number")
        return number
    if isinstance(sa_type, sa.Float):
        if isinstance(value, bool):
            raise ValueError("expected a number")
        real = float(value)
        if not math.isfinite(real):
            raise ValueError("expected a finite number")
        return real
    if isinstance(sa_type, sa.DateTime):
        return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(_text(value))
    if isinstance(sa_type, sa.Date):
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(_text(value))
    if isinstance(sa_type, sa.Time):
        return value if isinstance(value, dt.time) else dt.time.fromisoformat(_text(value))
    if isinstance(sa_type, sa.Uuid):
        return uuid.UUID(_text(value)) if sa_type.as_uuid else str(uuid.UUID(_text(value)))
    if isinstance(sa_type, sa.JSON):
        return json.loads(value) if isinstance(value, str) else value
    if isinstance(sa_type, sa.LargeBinary):
        return base64.b64decode(_text(value), validate=True)
    if isinstance(sa_type, sa.String):
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, bool) else str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return check_int64(value)  # a column without a declared type binds it as an SQL integer
    return value


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_int64(value: int) -> int:
    """An integer that fits the 64 bits every SQL integer type (and SQLite's driver) holds."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError(f"the integer is outside the 64-bit range {INT64_MIN}..{INT64_MAX}")
    return value


def check_params(params: Sequence[Any], dialect: str) -> None:
    """Values bound to a caller's SQL on SQLite: integers must fit 64 bits (SQLite's driver cannot
    bind a larger one; PostgreSQL's binds it by the parameter's type, NUMERIC included)."""
    if dialect != "sqlite":
        return
    for index, value in enumerate(params, start=1):
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInput(
                f"param {index} ({_preview(value)}) is an integer beyond 64 bits",
                recovery_steps=[
                    f"Give integers between {INT64_MIN} and {INT64_MAX}; pass a larger number as a string.",
                ],
                details={"field": "params", "index": index - 1},
            )


def _range(sa_type: Any) -> str:
    return f" between {INT64_MIN} and {INT64_MAX}" if isinstance(sa_type, sa.Integer) else ""


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _expected(sa_type: Any) -> str:
    for kind, label in (
        (sa.Boolean, "true/false"),
        (sa.Integer, "whole-number"),
        (sa.Numeric, "numeric"),
        (sa.DateTime, "ISO 8601 date-time ('2024-05-01T12:00:00')"),
        (sa.Date, "ISO 8601 date ('2024-05-01')"),
        (sa.Time, "ISO 8601 time ('12:00:00')"),
        (sa.Uuid, "UUID string"),
        (sa.LargeBinary, "base64 string"),
    ):
        if isinstance(sa_type, kind):
            return label
    return "matching"


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_NATIVE = frozenset({str, int, bool, type(None)})  # already JSON as they are
_NUMERIC = frozenset({int, float, bool, type(None)})


def column_to_json(values: Sequence[Any]) -> Sequence[Any]:
    """:func:`to_json` over one column of a page, returning ``values`` itself when no value changes.

    Most columns hold only strings, integers and NULLs (or finite floats), which are JSON as
    they are; telling that from the set of the column's value types costs far less than a call
    per value. Any other column is converted value by value.
    """
    types = set(map(type, values))
    if types <= _NATIVE:
        return values
    if types <= _NUMERIC and finite_numbers(values):
        return values
    return [to_json(value) for value in values]


def finite_numbers(values: Sequence[Any]) -> bool:
    """True when these numbers (NULLs allowed) hold no inf or nan; False may also mean "not sure"."""
    try:
        # inf and nan survive any sum, so a finite sum means every value is finite
        return math.isfinite(sum(filter(None, values)))
    except OverflowError:  # an integer too large for a float, next to floats
        return False


def to_json(value: Any) -> Any:
    """A database value as JSON: dates as ISO strings, exact decimals as numbers or strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)
