"""Rate limits per caller and tool, on the `limits` library.

In memory by default; on Redis when several replicas must share counts. Only tools/call
spends budget (initialize, discover, list calls and ping never do), and a limited call is a
RATE_LIMITED tool result with ``retry_after_s``, not a protocol error. If the storage is
unreachable the setting decides: fail open (serve, log a warning) or closed (refuse with
UPSTREAM_ERROR); either way the server keeps running.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from mcp_workbench.platform.errors import RateLimited, UpstreamError
from mcp_workbench.platform.identity import caller_identity

log = logging.getLogger("mcp_workbench.limits")


def storage_uri(configured: str) -> tuple[str, dict[str, Any]]:
    """Our config's ``memory://`` / ``redis://`` as the `limits` library's async URI and options."""
    scheme, rest = configured.split("://", 1)
    if scheme == "memory":
        return "async+memory://", {}
    return f"async+{scheme}://{rest}", {"implementation": "redispy", "socket_timeout": 2, "socket_connect_timeout": 2}


class RateLimiter:
    """Limits for each tool, checked and spent per caller."""

    def __init__(
        self,
        *,
        default: str,
        tools: dict[str, str],
        costs: dict[str, dict[str, int]],
        storage: str,
        fail_open: bool,
        on_reject: Callable[[str], None] | None = None,
    ) -> None:
        uri, options = storage_uri(storage)
        self.storage: Storage = storage_from_string(uri, **options)
        self._strategy = MovingWindowRateLimiter(self.storage)
        self._default = parse_many(default)
        self._tools = {name: parse_many(value) for name, value in tools.items()}
        self._costs = costs
        self._fail_open = fail_open
        self._on_reject = on_reject or (lambda _tool: None)
        self.shared = uri.startswith("async+redis")

    def limits_for(self, tool: str) -> list[RateLimitItem]:
        return self._tools.get(tool, self._default)

    def cost(self, tool: str, operation: str | None) -> int:
        return max(1, self._costs.get(tool, {}).get(operation or "", 1))

    async def spend(self, identity: str, tool: str, operation: str | None) -> None:
        """Spend the call's cost, or raise RateLimited / UpstreamError (storage down, fail closed)."""
        cost = self.cost(tool, operation)
        try:
            for item in self.limits_for(tool):
                if not await self._strategy.hit(item, identity, tool, cost=cost):
                    stats = await self._strategy.get_window_stats(item, identity, tool)
                    retry_after = max(0.0, stats.reset_time - time.time())
                    self._on_reject(tool)
                    raise RateLimited(
                        f"rate limit for {tool} reached ({item})",
                        retry_after_s=math.ceil(retry_after * 10) / 10,
                        details={"tool": tool, "limit": str(item)},
                    )
        except RateLimited:
            raise
        except Exception as exc:
            if self._fail_open:
                log.warning("rate-limit storage unavailable; letting the call through", extra={"error": repr(exc)})
                return
            raise UpstreamError(
                "the rate-limit service is unavailable, so calls are refused for now",
                recovery_steps=["Retry in a few seconds; tell the user if it persists."],
                details={"dependency": "rate_limit_storage"},
            ) from exc

    async def check(self) -> bool:
        try:
            return bool(await self.storage.check())
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            return False


class RateLimitMiddleware(Middleware):
    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        arguments = context.message.arguments or {}
        operation = arguments.get("operation")
        await self._limiter.spend(
            caller_identity(), context.message.name, operation if isinstance(operation, str) else None
        )
        return await call_next(context)
