"""Health routes for load balancers and Kubernetes, on the same host and port as /mcp.

- ``/livez``: the process is up (always 200 while it can answer).
- ``/readyz``: the lifespan has finished starting and every dependency (each database,
  the rate-limit storage) answers; otherwise 503 naming the failing dependency.
- ``/healthz``: version, uptime and capabilities as JSON; never configuration or secrets.
- ``/metrics``: Prometheus text format, optionally behind its own bearer token. Each scrape
  runs the readiness checks too and reports ``workbench_ready`` (1 when /readyz would answer
  200), so alerts see readiness without a separate prober.

These routes sit outside MCP auth (FastMCP never puts custom routes behind it).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping

from fastmcp import FastMCP
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcp_workbench.platform.metrics import CONTENT_TYPE, Metrics, Sample

Check = Callable[[], Awaitable[dict[str, str | None]]]  # dependency -> problem (None = fine)
CHECK_TIMEOUT_S = 3.0


class Health:
    def __init__(self, version: str, capabilities: Callable[[], list[str]]) -> None:
        self.version = version
        self.started = time.monotonic()
        self.ready = False
        self._capabilities = capabilities
        self._checks: list[Check] = []
        self._observed_ready = False

    def add_check(self, check: Check) -> None:
        self._checks.append(check)

    async def problems(self) -> dict[str, str]:
        results = await asyncio.gather(*(self._run(check) for check in self._checks))
        found: dict[str, str] = {}
        for result in results:
            found.update({name: problem for name, problem in result.items() if problem})
        return found

    @staticmethod
    async def _run(check: Check) -> dict[str, str | None]:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                return await check()
        except TimeoutError:
            return {getattr(check, "__qualname__", "check"): "timed out"}

    async def observe(self) -> None:
        """Run the readiness checks for the next :meth:`samples`."""
        self._observed_ready = self.ready and not await self.problems()

    def samples(self) -> Iterator[Sample]:
        yield Sample(
            "ready",
            "1 when /readyz answers 200: start-up done and every dependency answers (checked at each scrape).",
            float(self._observed_ready),
        )

    def summary(self) -> dict[str, object]:
        return {
            "status": "ok",
            "version": self.version,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "capabilities": self._capabilities(),
        }


def add_routes(mcp: FastMCP, health: Health, metrics: Metrics, metrics_token: str | None) -> None:
    @mcp.custom_route("/livez", methods=["GET"], include_in_schema=False)
    async def livez(_request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    @mcp.custom_route("/readyz", methods=["GET"], include_in_schema=False)
    async def readyz(_request: Request) -> Response:
        if not health.ready:
            return JSONResponse({"status": "starting"}, status_code=503)
        problems = await health.problems()
        if problems:
            return JSONResponse({"status": "unavailable", "failing": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @mcp.custom_route("/healthz", methods=["GET"], include_in_schema=False)
    async def healthz(_request: Request) -> Response:
        return JSONResponse(health.summary())

    @mcp.custom_route("/metrics", methods=["GET"], include_in_schema=False)
    async def metrics_route(request: Request) -> Response:
        if metrics_token is not None and not _bearer_matches(request.headers, metrics_token):
            return Response("unauthorized\n", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        await health.observe()
        return Response(metrics.render(), media_type=CONTENT_TYPE)


def _bearer_matches(headers: Mapping[str, str], token: str) -> bool:
    presented = headers.get("authorization", "")
    scheme, _, value = presented.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
