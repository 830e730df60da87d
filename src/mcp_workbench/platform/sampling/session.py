"""The handshake-era route: ``sampling/createMessage`` sent to the client while the call waits.

The SDK marks ``ServerSession.create_message`` deprecated (sampling left the protocol with
2026-07-28) and gives it no timeout: both are handled here, the only place that calls it.
Whether the connection can carry a request to the client is a property of the transport (a
stdio or stateful-HTTP session can; a stateless HTTP request cannot), read here too, so no
request is sent to find out.
"""

from __future__ import annotations

import warnings
from typing import Any

import anyio
import mcp_types
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError, NoBackChannelError

from mcp_workbench.platform.sampling.core import Completion, CompletionRequest
from mcp_workbench.platform.sampling.wire import completion_of, create_message_params


def back_channel(session: Any) -> str | None:
    """How a request can reach the client: ``"request"`` on the call's own stream (stdio, or an
    HTTP call answered as a stream), ``"session"`` on the session's standing stream (an HTTP call
    answered with plain JSON), or None (stateless HTTP: no way back)."""
    if getattr(session, "can_send_request", False):
        return "request"
    connection = getattr(session, "_connection", None)  # the SDK has no public accessor for it
    if getattr(connection, "has_standalone_channel", False):
        return "session"
    return None


class SessionCompleter:
    """Asks the client's model for one completion at a time, each within ``timeout_s``."""

    def __init__(self, session: Any, request_id: Any, *, channel: str, timeout_s: float) -> None:
        self._session = session
        self._related = request_id if channel == "request" else None
        self.timeout_s = timeout_s

    async def __call__(self, request: CompletionRequest) -> Completion:
        params = create_message_params(request)
        try:
            with anyio.fail_after(self.timeout_s):
                with warnings.catch_warnings():  # the deprecation warning is raised on the call itself
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    pending = self._session.create_message(
                        params.messages,
                        max_tokens=params.max_tokens,
                        system_prompt=params.system_prompt,
                        temperature=params.temperature,
                        model_preferences=params.model_preferences,
                        related_request_id=self._related,
                    )
                result: mcp_types.CreateMessageResult = await pending
        except TimeoutError:
            return Completion.failed(f"the client's model did not answer within {self.timeout_s:g} s")
        except MCPError as exc:  # the person or the client refused, or the client's model failed
            return Completion.failed(f"the client declined: {exc.error.message}")
        except NoBackChannelError:
            return Completion.failed("the connection cannot carry a request to the client")
        return completion_of(result)
