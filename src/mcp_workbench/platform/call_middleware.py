"""The production layer around every request that reaches a capability, in one middleware pass.

For each tools/call, resources/read, prompts/get and completion/complete, in order: a
:class:`CallRecord` with a correlation id in a context variable (the tool adapter reads the
id for error results and writes the outcome back); does the component exist and may this
caller use it (the :class:`Catalog` entry and its scope, :class:`ScopePolicy`); has the
caller budget left (:class:`RateLimiter`); the work itself within its time budget
(:class:`Budgets`); then one log line (with its ``kind``: tool, resource, prompt, completion)
and the metrics. For tools it is also the last safety net: an exception that escapes a tool
becomes an INTERNAL_ERROR result here instead of a protocol error.

A component the caller may not use is absent: left out of tools/list, resources/list,
resources/templates/list and prompts/list, and answered exactly as a missing one (a tool
call: NOT_FOUND with ``did_you_mean`` from the caller's own tools; a read or a prompt:
FastMCP's not-found protocol error; a completion: no values). Nothing is spent on it.

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

import mcp_types
from fastmcp.exceptions import NotFoundError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from mcp.shared.exceptions import MCPError

from mcp_workbench.platform.catalog import OTHER, Catalog, Entry
from mcp_workbench.platform.errors import ErrorCode, WorkbenchError, error_result, internal_error
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
    has no auth provider, so every caller is the local one. The catalog is read from the
    server on the first request.
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
        self.catalog = Catalog()

    def may_use(self, entry: Entry | None, scopes: frozenset[str] | None) -> bool:
        """Does ``entry`` exist for a caller with ``scopes``?"""
        return entry is not None and (self.scopes is None or self.scopes.allowed(entry.scope, scopes))

    async def _load(self, context: MiddlewareContext[Any]) -> Catalog:
        assert context.fastmcp_context is not None
        return await self.catalog.load(context.fastmcp_context.fastmcp)

    # --- listings: only what the caller may use ---------------------------------------------------

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        if not self.catalog.loaded:  # the HTTP app lists the tools at start-up: read the catalog then
            await self._load(context)
        return self._visible(await call_next(context))

    async def on_list_resources(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        return self._visible(await call_next(context))

    async def on_list_resource_templates(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        return self._visible(await call_next(context))

    async def on_list_prompts(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        return self._visible(await call_next(context))

    def _visible(self, components: Any) -> Any:
        return components if self.scopes is None else self.scopes.visible(components, self._caller().scopes)

    # --- tools/call -------------------------------------------------------------------------------

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        message = context.message
        tool = message.name
        operation = (message.arguments or {}).get("operation")
        record = CallRecord(tool, operation if isinstance(operation, str) else None)
        token = _current.set(record)
        caller = self._caller()
        catalog = self.catalog if self.catalog.loaded else await self._load(context)
        entry = catalog.tools.get(tool)
        metrics = self.metrics
        started = time.perf_counter()
        result: Any = None
        if metrics:
            metrics.calls.in_flight += 1
        try:
            if entry is None or (self.scopes is not None and not self.scopes.allowed(entry.scope, caller.scopes)):
                raise catalog.unknown_tool(tool, lambda e: self.may_use(e, caller.scopes))
            if self.limiter is not None:
                await self.limiter.spend(caller.identity, tool, record.operation)
            if self.budgets is not None:
                result = await self.budgets.run(tool, call_next(context))
            else:
                result = await call_next(context)
        except NotFoundError:  # removed from the server since the catalog was read: still absent
            exc = catalog.unknown_tool(tool, lambda e: self.may_use(e, caller.scopes))
            record.error_code = str(exc.code)
            result = error_result(exc, record.correlation_id)
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
                _observe_call(metrics, entry, record, elapsed)
            if log.isEnabledFor(logging.INFO):
                _log_call(record, caller.identity, elapsed)
        return result

    # --- resources/read, prompts/get, completion/complete -----------------------------------------

    async def on_read_resource(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        uri = str(context.message.uri)
        catalog = self.catalog if self.catalog.loaded else await self._load(context)
        return await self._serve(context, call_next, "resource", uri, catalog.resource(uri), absent=_not_found)

    async def on_get_prompt(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        name = context.message.name
        catalog = self.catalog if self.catalog.loaded else await self._load(context)
        return await self._serve(context, call_next, "prompt", name, catalog.prompts.get(name), absent=_not_found)

    async def on_request(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        """completion/complete has no hook of its own: it is seen here, with its raw params."""
        if context.method != "completion/complete":
            return await call_next(context)
        ref = context.message.get("ref") if isinstance(context.message, dict) else None
        if not isinstance(ref, dict) or ref.get("type") not in _REFERENCES:
            return await call_next(context)  # malformed: the protocol layer answers invalid params
        catalog = self.catalog if self.catalog.loaded else await self._load(context)
        entry = catalog.completion(ref)
        target = _ref_name(ref)
        return await self._serve(context, call_next, "completion", target, entry, absent=_no_completion)

    async def _serve(
        self,
        context: MiddlewareContext[Any],
        call_next: CallNext[Any, Any],
        kind: str,
        target: str,
        entry: Entry | None,
        *,
        absent: Callable[[], Any],
    ) -> Any:
        """A read, prompt or completion: the checks, budget and accounting of a tool call.

        Errors are protocol errors here (these requests have no error result): a
        :class:`WorkbenchError` becomes an MCP error whose message starts with its code.
        """
        record = CallRecord(target, None)
        token = _current.set(record)
        caller = self._caller()
        started = time.perf_counter()
        try:
            if not self.may_use(entry, caller.scopes):
                record.error_code = "NOT_FOUND"
                return absent()
            assert entry is not None
            if self.limiter is not None:
                await self.limiter.spend(caller.identity, entry.budget, None)
            if self.budgets is not None:
                return await self.budgets.run(entry.budget, call_next(context))
            return await call_next(context)
        except WorkbenchError as exc:
            record.error_code = str(exc.code)
            raise MCPError(
                code=mcp_types.INTERNAL_ERROR,
                message=f"{exc.code}: {exc.message}",
                data=exc.to_payload(record.correlation_id),
            ) from None
        except NotFoundError:
            record.error_code = "NOT_FOUND"
            raise
        except BaseException as exc:  # the component's own error, or cancelled
            record.error_code = _outcome_of(exc)
            raise
        finally:
            _current.reset(token)
            elapsed = time.perf_counter() - started
            if self.metrics:
                self.metrics.calls.observe_request(kind, entry.name if entry else OTHER, record.error_code or "ok")
            if log.isEnabledFor(logging.INFO):
                _log_request(kind, record, caller.identity, elapsed)


def _local() -> Caller:
    return LOCAL


def _observe_call(metrics: Metrics, entry: Entry | None, record: CallRecord, elapsed: float) -> None:
    """The call's metrics, labelled only with names from the catalog (anything else is ``other``)."""
    if entry is None:
        metrics.observe_call(OTHER, "" if record.operation is None else OTHER, "NOT_FOUND", elapsed)
    else:
        label = entry.operations.get(record.operation, OTHER)
        metrics.observe_call(entry.name, label, record.error_code or "ok", elapsed)


def _not_found() -> Any:
    """What FastMCP answers for a missing resource or prompt, raised for a hidden one too."""
    raise NotFoundError("not found")


def _no_completion() -> Any:
    return mcp_types.CompleteResult(completion=mcp_types.Completion(values=[]))


_REFERENCES = ("ref/prompt", "ref/resource")


def _ref_name(ref: dict[str, Any]) -> str:
    name = ref.get("name") if ref.get("type") == "ref/prompt" else ref.get("uri")
    return name if isinstance(name, str) else ""


_CODES = frozenset(ErrorCode)


def _outcome_of(exc: BaseException) -> str:
    """A bounded outcome label for an error a component raised (``CODE: message`` by convention)."""
    if not isinstance(exc, Exception):
        return "CANCELLED"
    code = str(exc).split(":", 1)[0]
    return code if code in _CODES else "ERROR"


_LOGGED = 200  # characters of a caller's name or URI a log line keeps


def _bounded(text: str) -> str:
    return text[:_LOGGED] + "…"


def _log_call(record: CallRecord, caller: str, elapsed: float) -> None:
    """The one log line of a call (see :func:`info_line` for why it is not ``log.info``)."""
    tool, operation = record.tool, record.operation
    fields = {
        "caller": caller,
        "kind": "tool",
        "tool": tool if len(tool) <= _LOGGED else _bounded(tool),
        "operation": operation if operation is None or len(operation) <= _LOGGED else _bounded(operation),
        "duration_ms": round(elapsed * 1000, 3),
        "outcome": "error" if record.error_code else "ok",
        "error_code": record.error_code,
        "correlation_id": record.correlation_id,
        **record.extra,
    }
    info_line(log, "tool call", fields)


def _log_request(kind: str, record: CallRecord, caller: str, elapsed: float) -> None:
    """The log line of a resource read, prompt get or completion."""
    fields = {
        "caller": caller,
        "kind": kind,
        "target": record.tool if len(record.tool) <= _LOGGED else _bounded(record.tool),
        "duration_ms": round(elapsed * 1000, 3),
        "outcome": "error" if record.error_code else "ok",
        "error_code": record.error_code,
        "correlation_id": record.correlation_id,
    }
    info_line(log, f"{kind} request", fields)
