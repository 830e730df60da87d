"""Per-call bookkeeping: a correlation id for every tool call and one log line when it ends.

The middleware opens a :class:`CallRecord` in a context variable before the tool runs; the
tool adapter reads the correlation id from it for error results and writes the outcome back.
It is also the last safety net: an exception that escapes a tool (or another middleware)
becomes an INTERNAL_ERROR result here instead of a protocol error.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from fastmcp.exceptions import NotFoundError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

from mcp_workbench.platform.errors import WorkbenchError, error_result, internal_error
from mcp_workbench.platform.identity import caller_identity
from mcp_workbench.platform.metrics import Metrics

log = logging.getLogger("mcp_workbench.calls")


@dataclass
class CallRecord:
    """What is known about the tool call in progress."""

    tool: str
    operation: str | None
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    error_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[CallRecord | None] = ContextVar("workbench_call", default=None)


def current_call() -> CallRecord | None:
    return _current.get()


def current_correlation_id() -> str:
    record = _current.get()
    return record.correlation_id if record else uuid.uuid4().hex


class ToolCallMiddleware(Middleware):
    """Correlation id, one structured log line per tool call, metrics, and the exception safety net."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self._metrics = metrics

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        arguments = context.message.arguments or {}
        operation = arguments.get("operation")
        record = CallRecord(tool=context.message.name, operation=operation if isinstance(operation, str) else None)
        token = _current.set(record)
        started = time.perf_counter()
        result: Any = None
        if self._metrics:
            self._metrics.in_flight.inc()
        try:
            result = await call_next(context)
        except NotFoundError:
            # An unknown tool name is a protocol-level matter; FastMCP answers it as such.
            record.error_code = "UNKNOWN_TOOL"
            raise
        except WorkbenchError as exc:
            record.error_code = str(exc.code)
            result = error_result(exc, record.correlation_id)
        except Exception:
            record.error_code = "INTERNAL_ERROR"
            log.exception("tool call failed", extra={"correlation_id": record.correlation_id})
            result = error_result(internal_error(), record.correlation_id)
        except BaseException:  # cancelled: the client gave up, or the server is shutting down
            record.error_code = "CANCELLED"
            raise
        finally:
            _current.reset(token)
            if isinstance(result, ToolResult) and result.is_error and record.error_code is None:
                record.error_code = "TOOL_ERROR"  # an error result made outside our adapters
            elapsed = time.perf_counter() - started
            outcome = "error" if record.error_code else "ok"
            if self._metrics:
                self._metrics.in_flight.dec()
                self._metrics.observe_call(record.tool, record.operation, record.error_code or "ok", elapsed)
            log.info(
                "tool call",
                extra={
                    "caller": caller_identity(),
                    "tool": record.tool,
                    "operation": record.operation,
                    "duration_ms": round(elapsed * 1000, 3),
                    "outcome": outcome,
                    "error_code": record.error_code,
                    "correlation_id": record.correlation_id,
                    **record.extra,
                },
            )
        return result
