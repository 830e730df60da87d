"""Database exceptions translated into the error tree, in one place.

Drivers raise very different things for the same situation (a SQLite ``OperationalError``
whose text says "interrupted", a PostgreSQL SQLSTATE 57014); callers only ever see a
:class:`~mcp_workbench.platform.errors.WorkbenchError` with recovery steps for the model.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import exc as sa_exc

from mcp_workbench.data.readbounds import ROW_OVER_BOUND, ReadBounds, value_too_large
from mcp_workbench.data.settings import DataSettings
from mcp_workbench.platform.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReadOnly,
    Timeout,
    UpstreamError,
    UpstreamRefused,
    WorkbenchError,
)


class Source(Protocol):
    """What an error message needs of a data source: its name, its limits and its read bounds."""

    name: str

    @property
    def bounds(self) -> ReadBounds: ...

    @property
    def limits(self) -> DataSettings: ...


_UNREACHABLE = (
    "Retry in a few seconds; the database may be restarting.",
    "If it keeps failing, tell the user the database is unreachable (data_read 'sources' lists it).",
)


@contextmanager
def translate_db_errors(source: Source) -> Iterator[None]:
    try:
        yield
    except WorkbenchError:
        raise
    except sa_exc.DBAPIError as exc:
        raise from_dbapi_error(exc, source) from exc
    except sqlite3.Error as exc:  # a statement run on the driver's connection directly (Source.fetch)
        message = _first_line(exc)
        details: dict[str, object] = {"source": source.name, "database_error": message}
        raise _from_sqlite(exc, message, details, source, connection_invalidated=False) from exc
    except OverflowError as exc:  # a bound value the driver cannot convert (an integer beyond 64 bits)
        raise InvalidInput(
            f"a value does not fit the database's types: {_first_line(exc)}",
            recovery_steps=["Give integers within 64 bits; pass larger numbers as strings, then call again."],
            details={"source": source.name, "reason": _first_line(exc)},
        ) from exc
    except MemoryError as exc:  # SQLite's heap bound (SQLITE_NOMEM) reached while building a row
        raise value_too_large(source.bounds, source.name, "out of memory") from exc
    except (OSError, ConnectionError, sa_exc.TimeoutError) as exc:
        raise UpstreamError(
            f"cannot reach the database of source '{source.name}'",
            recovery_steps=list(_UNREACHABLE),
            details={"source": source.name, "reason": type(exc).__name__},
        ) from exc
    except TimeoutError as exc:
        raise Timeout(
            f"the statement on source '{source.name}' exceeded its time budget",
            details={"source": source.name, "timeout_s": source.limits.statement_timeout_s},
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__


def from_dbapi_error(exc: sa_exc.DBAPIError, source: Source) -> WorkbenchError:
    orig = exc.orig
    message = _first_line(orig) if orig is not None else _first_line(exc)
    details: dict[str, object] = {"source": source.name, "database_error": message}
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate:
        return _from_sqlstate(str(sqlstate), message, details, source)
    return _from_sqlite(orig, message, details, source, connection_invalidated=exc.connection_invalidated)


def _from_sqlstate(code: str, message: str, details: dict[str, object], source: Source) -> WorkbenchError:
    if code in {"57014", "55P03"}:
        return Timeout(
            f"the statement on source '{source.name}' exceeded its time budget",
            details={**details, "timeout_s": source.limits.statement_timeout_s},
        )
    if ROW_OVER_BOUND in message or code in ("54000", "53200"):  # over our row bound, a server limit, no memory
        return value_too_large(source.bounds, source.name, message)
    if code == "25006":
        return ReadOnly(
            "the statement tried to write in a read-only operation",
            recovery_steps=[
                "This target is configured read-only; use a writable one (see data_read operation 'sources')."
            ],
            details=details,
        )
    if code in ("42P01", "42703", "42883", "3F000"):
        return NotFound(
            f"database object not found: {message}",
            recovery_steps=["Check names with data_read operations 'tables' and 'describe', then call again."],
            details=details,
        )
    if code == "42501":
        return PermissionDenied(f"the database refused: {message}", details=details)
    if code.startswith("23"):
        return Conflict(
            f"a constraint refused the change: {message}",
            recovery_steps=["Check the table's keys and constraints (data_read 'describe') and adjust the values."],
            details=details,
        )
    if code.startswith(("22", "42")):
        return InvalidInput(
            f"the database rejected the request: {message}",
            recovery_steps=["Fix the statement or the values as the database_error says, then call again."],
            details=details,
        )
    if code.startswith("28") or code == "3D000":  # credentials refused, no such database
        return UpstreamRefused(
            f"the database of source '{source.name}' refuses the connection: {message}",
            recovery_steps=[
                (
                    f"Retrying will not help: tell the user that source '{source.name}' is configured with a role, "
                    "password or database name the database does not accept; the operator must fix its URL."
                ),
            ],
            details={**details, "sqlstate": code},
        )
    if code in ("40001", "40P01"):
        return UpstreamError(f"transaction conflict, safe to retry: {message}", details=details)
    if code.startswith(("08", "53", "57", "58")):
        return UpstreamError(
            f"the database of source '{source.name}' is unavailable: {message}",
            recovery_steps=list(_UNREACHABLE),
            details=details,
        )
    return UpstreamError(f"the database failed: {message}", details=details)


def _from_sqlite(
    orig: BaseException | None,
    message: str,
    details: dict[str, object],
    source: Source,
    *,
    connection_invalidated: bool,
) -> WorkbenchError:
    lowered = message.lower()
    if "too big" in lowered:  # over the value bound (SQLITE_TOOBIG)
        return value_too_large(source.bounds, source.name, message)
    if "interrupted" in lowered:
        return Timeout(
            f"the statement on source '{source.name}' exceeded its time budget",
            details={**details, "timeout_s": source.limits.statement_timeout_s},
        )
    if isinstance(orig, sqlite3.IntegrityError) or "constraint failed" in lowered:
        return Conflict(
            f"a constraint refused the change: {message}",
            recovery_steps=["Check the table's keys and constraints (data_read 'describe') and adjust the values."],
            details=details,
        )
    if "not authorized" in lowered or "readonly" in lowered or "read-only" in lowered:
        return ReadOnly(
            f"the statement is not allowed on this connection: {message}",
            recovery_steps=["Only read-only statements run through data_read; use data_write for changes."],
            details=details,
        )
    if "no such table" in lowered or "no such column" in lowered or "no such function" in lowered:
        return NotFound(
            f"database object not found: {message}",
            recovery_steps=["Check names with data_read operations 'tables' and 'describe', then call again."],
            details=details,
        )
    if "locked" in lowered or "busy" in lowered:
        return UpstreamError(f"the database is busy: {message}", details=details)
    if "disk" in lowered or "full" in lowered or "unable to open" in lowered or connection_invalidated:
        return UpstreamError(
            f"the database file of source '{source.name}' cannot be used: {message}",
            recovery_steps=["Tell the user: the disk may be full or the file unwritable; nothing was changed."],
            details=details,
        )
    if "syntax error" in lowered or "incomplete input" in lowered or "bindings" in lowered or "mismatch" in lowered:
        return InvalidInput(
            f"the database rejected the request: {message}",
            recovery_steps=["Fix the statement or the values as the database_error says, then call again."],
            details=details,
        )
    return UpstreamError(f"the database failed: {message}", details=details)
