"""Which route a call takes, decided from what the client declared and what the operator configured.

Never from a trial request: a client that declares sampling is taken at its word (a refusal
later ends the work with what it has), and one that does not is never asked.
"""

from __future__ import annotations

from typing import Literal

from mcp_workbench.platform.sampling.core import Route

Prefer = Literal["client", "server"]
"""``client``: the caller's own model when it can sample, else the server's; ``server``: the server's
model whenever one is configured."""


def choose_route(
    *,
    modern: bool,
    client_samples: bool,
    back_channel: bool,
    server_model: bool,
    prefer: Prefer = "client",
) -> Route:
    """The route for one call.

    ``modern``: the connection speaks 2026-07-28 (the guard route, no server-to-client requests);
    ``client_samples``: the client declared the sampling capability; ``back_channel``: a
    handshake-era connection can carry a request to the client; ``server_model``: an endpoint is
    configured.
    """
    if prefer == "server" and server_model:
        return Route.SERVER_MODEL
    if client_samples:
        if modern:
            return Route.GUARD
        if back_channel:
            return Route.SESSION
    if server_model:
        return Route.SERVER_MODEL
    return Route.NONE
