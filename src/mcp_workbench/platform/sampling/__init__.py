"""The sampling bridge: one way for any tool to ask for completions, in both protocol eras, or none.

An algorithm that needs a model is written once, as a step machine (:mod:`.core`: it yields
batches of :class:`CompletionRequest` and receives :class:`Completion` answers), and a driver
runs it on the route the call allows (:mod:`.routes`):

==============  =========================================================================
guard           2026-07-28 and the client samples: one batch per round, returned as an
                ``InputRequiredResult``; state sealed in ``request_state``; ≤ 9 rounds
                (:mod:`.guard`)
session         handshake era and the client samples: ``sampling/createMessage`` inline,
                each with a timeout (:mod:`.session`)
server_model    an OpenAI-compatible endpoint the operator configured (:mod:`.server_model`),
                when the client cannot sample or the operator prefers it
none            no model: the tool gives its model-free answer
==============  =========================================================================

This package imports only the model-free core, so domain code can implement an algorithm
without FastMCP; the MCP side is :mod:`.bridge` (``SamplingBridge.open(ctx)`` → a call's
route and ``run``).
"""

from mcp_workbench.platform.sampling.core import (
    Algorithm,
    Ask,
    Budget,
    Completion,
    CompletionRequest,
    Done,
    Message,
    Pending,
    Progress,
    Route,
    Sampler,
    State,
    StopReason,
    first_failure,
)

__all__ = [
    "Algorithm",
    "Ask",
    "Budget",
    "Completion",
    "CompletionRequest",
    "Done",
    "Message",
    "Pending",
    "Progress",
    "Route",
    "Sampler",
    "State",
    "StopReason",
    "first_failure",
]
