"""The production layer around every tool call, in one middleware pass.

For each tools/call, in order: a :class:`CallRecord` with a correlation id in a context
variable (the tool adapter reads the id for error results and writes the outcome back); may
this caller use this tool (:class:`ScopePolicy`); has it budget left (:class:`RateLimiter`);
the call itself within its time budget (:class:`Budgets`); then one log line and the
metrics. It is also the last safety net: an exception that escapes a tool becomes an
INTERNAL_ERROR result here instead of a protocol error. tools/list is filtered by scope here
too, so a caller never sees a tool it may not call.

One middleware rather than one per concern: every FastMCP middleware level adds a wrapper,
a context copy and an await on every call, and this layer is meant to cost almost nothing
next to the framework (the benchmark in ``bench/`` measures it). Each concern stays a plain
object in its own module; this module only sequences them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from fastmcp.exceptions import NotFoundError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

from mcp_workbench.platform.errors import WorkbenchError, error_result, internal_error
from mcp_workbench.platform.identity import LOCAL, Caller, current_caller
from mcp_workbench.platform.logging import info_line

if TYPE_CHECKING:
    from mcp_workbench.platform.auth import ScopePolicy
    from mcp_workbench.platform.limits import RateLimiter
    from mcp_workbench.platform.metrics import Metrics
    from mcp_workbench.platform.timeouts import Budgets

log = logging.getLogger("mcp_workbench.calls")


def new_correlation_id() -> str:
    """128 random bits as hex. Not a secret, only a label, so no system call for entropy."""
    return f"{random.getrandbits(128):032x}"


class CallRecord:
    """What is known about the tool call in progress."""

    __slots__ = ("correlation_id", "error_code", "extra", "operation", "tool")

    def __init__(self, tool: str, operation: str | None) -> None:
        self.tool = tool
        self.operation = operation
        self.correlation_id = new_correlation_id()
        self.error_code: str | None = None
        self.extra: dict[str, Any] = {}


_current: ContextVar[CallRecord | None] = ContextVar("workbench_call", default=None)


def current_call() -> CallRecord | None:
    return _current.get()


def current_correlation_id() -> str:
    record = _current.get()
    return record.correlation_id if record else new_correlation_id()


class ToolCallMiddleware(Middleware):
    """Correlation id, scopes, rate limit, time budget, log line, metrics and the safety net.

    Every part is optional (None leaves it out), which is how tests build a minimal server and
    how the benchmark measures what each part costs. ``authenticated=False`` says the server
    has no auth provider, so every caller is the local one.
    """

    def __init__(
        self,
        metrics: Metrics | None = None,
        *,
        scopes: ScopePolicy | None = None,
        limiter: RateLimiter | None = None,
        budgets: Budgets | None = None,
        authenticated: bool = True,
    ) -> None:
        # Without an auth provider every caller is the local one: no need to look for a token.
        self._caller: Callable[[], Caller] = current_caller if authenticated else _local
        self.metrics = metrics
        self.scopes = scopes
        self.limiter = limiter
        self.budgets = budgets

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        tools = await call_next(context)
        return tools if self.scopes is None else self.scopes.visible(tools, self._caller().scopes)

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        message = context.message
        tool = message.name
        operation = (message.arguments or {}).get("operation")
        record = CallRecord(tool, operation if isinstance(operation, str) else None)
        token = _current.set(record)
        caller = self._caller()
        metrics = self.metrics
        started = time.perf_counter()
        result: Any = None
        if metrics:
            metrics.calls.in_flight += 1
        try:
            if self.scopes is not None:
                self.scopes.check(tool, caller.scopes)
            if self.limiter is not None:
                await self.limiter.spend(caller.identity, tool, record.operation)
            if self.budgets is not None:
                result = await self.budgets.run(tool, call_next(context))
            else:
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
            if record.error_code is None and isinstance(result, ToolResult) and result.is_error:
                record.error_code = "TOOL_ERROR"  # an error result made outside our adapters
            elapsed = time.perf_counter() - started
            if metrics:
                metrics.calls.in_flight -= 1
                metrics.observe_call(tool, record.operation, record.error_code or "ok", elapsed)
            if log.isEnabledFor(logging.INFO):
                _log_call(record, caller.identity, elapsed)
        return result


def _local() -> Caller:
    return LOCAL


def _log_call(record: CallRecord, caller: str, elapsed: float) -> None:
    """The one log line of a call (see :func:`info_line` for why it is not ``log.info``)."""
    fields = {
        "caller": caller,
        "tool": record.tool,
        "operation": record.operation,
        "duration_ms": round(elapsed * 1000, 3),
        "outcome": "error" if record.error_code else "ok",
        "error_code": record.error_code,
        "correlation_id": record.correlation_id,
        **record.extra,
    }
    info_line(log, "tool call", fields)
