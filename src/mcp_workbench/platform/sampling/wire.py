"""Our requests and answers in MCP's sampling types, both ways (guard and session routes)."""

from __future__ import annotations

from typing import Any

import mcp_types

from mcp_workbench.platform.sampling.core import Completion, CompletionRequest


def create_message_params(request: CompletionRequest) -> mcp_types.CreateMessageRequestParams:
    preferences = None
    if request.model_hints or any(
        p is not None for p in (request.intelligence_priority, request.speed_priority, request.cost_priority)
    ):
        preferences = mcp_types.ModelPreferences(
            hints=[mcp_types.ModelHint(name=name) for name in request.model_hints] or None,
            intelligence_priority=request.intelligence_priority,
            speed_priority=request.speed_priority,
            cost_priority=request.cost_priority,
        )
    return mcp_types.CreateMessageRequestParams(
        messages=[
            mcp_types.SamplingMessage(role=m.role, content=mcp_types.TextContent(type="text", text=m.text))
            for m in request.messages
        ],
        system_prompt=request.system,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        model_preferences=preferences,
    )


def create_message_request(request: CompletionRequest) -> mcp_types.CreateMessageRequest:
    return mcp_types.CreateMessageRequest(params=create_message_params(request))


def completion_of(answer: Any) -> Completion:
    """The text of a client's sampling answer, or a failure saying why there is none."""
    if not isinstance(answer, mcp_types.CreateMessageResult | mcp_types.CreateMessageResultWithTools):
        return Completion.failed("the client answered something other than a model's message")
    blocks = answer.content if isinstance(answer.content, list) else [answer.content]
    texts = [block.text for block in blocks if isinstance(block, mcp_types.TextContent)]
    if not texts:
        return Completion.failed("the client's model answered without text")
    return Completion(text="".join(texts), model=answer.model, stop_reason=answer.stop_reason)
