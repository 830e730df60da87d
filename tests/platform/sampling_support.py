"""A small algorithm and a small server around the sampling bridge, for the bridge's own tests.

:class:`Rounds` asks ``per_round`` completions per round for ``rounds`` rounds (or forever) and
ends with every answer it got, or at the first failed one; ``pad`` random characters (which
do not compress) make its state as large as a test needs. The server has one tool, ``run``, that drives it on whatever
route the call has, exactly as a capability's tool does.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from fastmcp import FastMCP
from fastmcp.server.dependencies import get_context

from mcp_workbench.platform.sampling import Ask, Budget, Completion, CompletionRequest, Done, Pending, Route, State
from mcp_workbench.platform.sampling.bridge import SamplingBridge, pending_result


class Rounds:
    def __init__(self, rounds: int | None, per_round: int = 1, pad: int = 0) -> None:
        self.rounds = rounds
        self.per_round = per_round
        self.pad = pad

    def _ask(self, state: State) -> Ask:
        n = len(state["answers"]) + 1
        requests = [
            CompletionRequest.single(f"round {n} request {i}", max_tokens=50, temperature=0.5)
            for i in range(self.per_round)
        ]
        return Ask(requests, state, f"asking round {n}", progress=(n - 1, self.rounds))

    def start(self) -> Ask | Done[dict[str, Any]]:
        return self._ask({"answers": [], "pad": secrets.token_hex(self.pad // 2)})

    def resume(self, state: State, answers: Sequence[Completion]) -> Ask | Done[dict[str, Any]]:
        state["answers"].append([a.text if a.ok else f"failed: {a.error}" for a in answers])
        if any(not a.ok for a in answers):
            return self.stop_with(state, "declined")
        if self.rounds is not None and len(state["answers"]) >= self.rounds:
            return self.stop_with(state, "done")
        return self._ask(state)

    def stop(self, state: State, reason: Any) -> Done[dict[str, Any]]:
        return self.stop_with(state, reason)

    @staticmethod
    def stop_with(state: State, reason: str) -> Done[dict[str, Any]]:
        return Done({"stop": reason, "answers": state["answers"]})


def bridge_server(bridge: SamplingBridge, *, budget_s: float = 600.0) -> FastMCP:
    mcp = FastMCP("bridge-test")

    @mcp.tool
    async def run(rounds: int | None = 3, per_round: int = 1, pad: int = 0) -> Any:
        """Run the Rounds algorithm on this call's route."""
        call = bridge.open(get_context())
        if call.route is Route.NONE:
            return {"route": "none"}
        outcome = await call.run(Rounds(rounds, per_round, pad), Budget(budget_s), call.progress)
        if isinstance(outcome, Pending):
            return pending_result(outcome)
        return {"route": str(call.route), "continuing": call.continuing, **outcome}

    return mcp
