"""The one error tree of mcp-workbench and its one mapping to the wire.

Domain code raises these; nothing below the tool boundary knows MCP. A failed tool call
becomes a tool result with ``isError: true`` (never a JSON-RPC error: the model can read
a result and act on it, a protocol error only reaches the user), holding one text content
with this JSON object::

    {"error": "...", "error_code": "VALIDATION_ERROR", "recovery_steps": ["..."],
     "retryable": false, "details": {...}, "correlation_id": "..."}

    WorkbenchError
     ├── InvalidInput        VALIDATION_ERROR   the request is malformed or out of bounds
     ├── NotFound            NOT_FOUND          a source, table, column, file ... does not exist
     ├── PermissionDenied    PERMISSION_DENIED  the request is outside what this caller may do
     ├── ReadOnly            READ_ONLY          a write to something configured read-only
     ├── RateLimited         RATE_LIMITED       too many calls; details.retry_after_s says when
     ├── Timeout             TIMEOUT            the work took longer than its budget (retryable)
     ├── UpstreamError       UPSTREAM_ERROR     a database or remote service failed (retryable)
     ├── Conflict            CONFLICT           the target already exists / a constraint failed
     ├── TooLarge            TOO_LARGE          the request or its answer exceeds a size cap
     └── InternalError       INTERNAL_ERROR     a bug; the message is masked, the log has the trace
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the tree itself is plain Python: the CLI and domain code use it without loading FastMCP
    from fastmcp.tools.base import ToolResult


class ErrorCode(StrEnum):
    """The closed set of error codes a tool result can carry (documented in the README)."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    READ_ONLY = "READ_ONLY"
    RATE_LIMITED = "RATE_LIMITED"
    TIMEOUT = "TIMEOUT"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    CONFLICT = "CONFLICT"
    TOO_LARGE = "TOO_LARGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class WorkbenchError(Exception):
    """Base of every error a tool reports to the model.

    ``recovery_steps`` are written for the model: what to do next, not what went wrong.
    """

    code: ErrorCode = ErrorCode.INTERNAL_ERROR
    retryable: bool = False
    default_recovery: tuple[str, ...] = ()

    def __init__(
        self,
        message: str,
        *,
        recovery_steps: list[str] | tuple[str, ...] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.recovery_steps = list(recovery_steps or self.default_recovery)
        self.details = dict(details or {})

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as itself, whatever its constructor takes, so an error raised in a worker
        process arrives in the parent as the same class with the same fields."""
        return (_rebuilt, (type(self), self.message, self.recovery_steps, self.details))

    def to_payload(self, correlation_id: str | None) -> dict[str, Any]:
        return {
            "error": self.message,
            "error_code": str(self.code),
            "recovery_steps": self.recovery_steps,
            "retryable": self.retryable,
            "details": self.details,
            "correlation_id": correlation_id,
        }


def _rebuilt(
    cls: type[WorkbenchError], message: str, recovery_steps: list[str], details: dict[str, Any]
) -> WorkbenchError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message, error.recovery_steps, error.details = message, recovery_steps, details
    return error


class InvalidInput(WorkbenchError):
    code = ErrorCode.VALIDATION_ERROR
    default_recovery = ("Fix the arguments named in details and call again.",)


class NotFound(WorkbenchError):
    code = ErrorCode.NOT_FOUND
    default_recovery = ("List what exists first, then call again with an existing name.",)


class PermissionDenied(WorkbenchError):
    code = ErrorCode.PERMISSION_DENIED
    default_recovery: tuple[str, ...] = ("This request is not allowed here; do not retry it unchanged.",)


class ReadOnly(WorkbenchError):
    code = ErrorCode.READ_ONLY
    default_recovery = ("This target is configured read-only; use a writable one.",)


class RateLimited(WorkbenchError):
    code = ErrorCode.RATE_LIMITED
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.details.setdefault("retry_after_s", retry_after_s)
        if not self.recovery_steps:
            self.recovery_steps = [f"Wait {retry_after_s:g} seconds, then call again."]


class Timeout(WorkbenchError):
    code = ErrorCode.TIMEOUT
    retryable = True
    default_recovery = (
        "Narrow the request (add filters, lower the limit) so it finishes within the time budget.",
        "Retry once; if it times out again, the request is too expensive as written.",
    )


class TimeoutFinal(Timeout):
    """The work was stopped at its budget and would take as long again: retrying as is cannot help."""

    retryable = False


class UpstreamError(WorkbenchError):
    code = ErrorCode.UPSTREAM_ERROR
    retryable = True
    default_recovery = ("Retry in a few seconds; if it keeps failing, tell the user the service is down.",)


class UpstreamDeclined(UpstreamError):
    """The service answered, and declines this request as sent: the same request would fail again."""

    retryable = False
    default_recovery = ("Do not retry this request unchanged; the service refuses it as sent.",)


class UpstreamRefused(UpstreamError):
    """The service answered, and refuses us for a reason retrying cannot fix (wrong credentials,
    a missing database): the operator's configuration must change."""

    retryable = False
    default_recovery = (
        (
            "Retrying will not help: tell the user the server's settings for this service are wrong (the error "
            "says what), so the operator can fix them."
        ),
    )


class Conflict(WorkbenchError):
    code = ErrorCode.CONFLICT
    default_recovery: tuple[str, ...] = ("Inspect the current state, then change the request so it does not collide.",)


class TooLarge(WorkbenchError):
    code = ErrorCode.TOO_LARGE
    default_recovery = ("Ask for less at once: lower the limit, select fewer columns, or paginate.",)


class InternalError(WorkbenchError):
    code = ErrorCode.INTERNAL_ERROR
    default_recovery = (
        (
            "This is a server bug, not a problem with your request. Retry once; if it repeats, "
            "report the correlation_id to the server's operator."
        ),
    )


def internal_error() -> InternalError:
    """The masked stand-in for an unexpected exception: no internals reach the caller."""
    return InternalError("The server hit an unexpected error while handling this call.")


def error_payload(exc: WorkbenchError, correlation_id: str | None) -> dict[str, Any]:
    return exc.to_payload(correlation_id)


def resource_error(exc: WorkbenchError) -> Exception:
    """The one mapping of an error to a resource read's failure (resources have no isError).

    The caller's mistake (a missing file, an unknown table) is expected: FastMCP logs it at
    DEBUG, not as an error with a traceback; the request's own log line carries its code.
    """
    from fastmcp.exceptions import ResourceError

    return ResourceError(f"{exc.code}: {exc.message}", log_level=logging.DEBUG)


def error_result(exc: WorkbenchError, correlation_id: str | None) -> ToolResult:
    """The one mapping of an error to an MCP tool result."""
    from fastmcp.tools.base import ToolResult
    from mcp_types import TextContent

    text = json.dumps(error_payload(exc, correlation_id), ensure_ascii=False, default=str)
    return ToolResult(content=[TextContent(type="text", text=text)], is_error=True)
