"""Streamable-HTTP sessions limited per caller, so that one caller can never lock out the rest.

The MCP SDK's session manager caps sessions only in total (and answers 503 to everyone once
one caller has opened them all), and expires a session only after its idle timeout. This
guard sits in front of it, after authentication, and admits each session-opening request
(a POST without ``Mcp-Session-Id`` in a handshake era) by two rules:

- **Per caller** (key id, JWT subject, or ``local``, as rate limits count them): a caller
  at ``max_sessions_per_caller`` loses its own least recently used idle session to the new
  one. If every one of its sessions is busy (a request in flight or a GET stream open), that
  caller alone gets 429 with a JSON body saying what to do.
- **In total** (``max_sessions``): at the cap, the least recently used idle session of the
  caller holding the most sessions is closed to make room: under pressure, idle sessions
  expire at once instead of after ``session_idle_timeout_s``. Only when every session is
  busy does a new one get 503.

Room is made only once the new session is open, so a request that opens none (not an
initialize, or refused downstream) closes nobody's session. A closed session's id answers
404, as an expired one does; the client initializes again.
The 2026-07-28 era is sessionless and a stateless server has no sessions: both pass through.

The SDK keeps its sessions in private attributes; :class:`_Manager` is the one place that
reads them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_workbench.platform.identity import caller_of

log = logging.getLogger("mcp_workbench.sessions")

RETRY_AFTER_S = 5
_SESSION_HEADER = MCP_SESSION_ID_HEADER.encode()
_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.lower().encode()


@dataclass(frozen=True)
class SessionLimits:
    total: int
    per_caller: int


@dataclass
class _Session:
    caller: str
    last_used: float
    in_flight: int = 0


@dataclass
class _Book:
    """The open sessions this guard admitted, by id and by caller, for one session manager."""

    sessions: dict[str, _Session] = field(default_factory=dict)
    by_caller: dict[str, set[str]] = field(default_factory=dict)
    opening: dict[str, int] = field(default_factory=dict)  # admitted, initialize not answered yet

    def add(self, session_id: str, caller: str) -> _Session:
        session = self.sessions[session_id] = _Session(caller, time.monotonic())
        self.by_caller.setdefault(caller, set()).add(session_id)
        return session

    def forget(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            ids = self.by_caller.get(session.caller)
            if ids is not None:
                ids.discard(session_id)
                if not ids:
                    del self.by_caller[session.caller]

    def held(self, caller: str) -> int:
        return len(self.by_caller.get(caller, ())) + self.opening.get(caller, 0)

    def total(self) -> int:
        return len(self.sessions) + sum(self.opening.values())

    def least_recently_used_idle(self, caller: str, keep: str | None = None) -> str | None:
        idle = [sid for sid in self.by_caller.get(caller, ()) if sid != keep and self.sessions[sid].in_flight == 0]
        return min(idle, key=lambda sid: self.sessions[sid].last_used, default=None)

    def eviction_candidate(self, keep: str | None = None) -> str | None:
        """The least recently used idle session among the callers holding the most sessions."""
        by_count = sorted({len(ids) for ids in self.by_caller.values()}, reverse=True)
        for count in by_count:
            idle = [
                sid
                for ids in self.by_caller.values()
                if len(ids) == count
                for sid in ids
                if sid != keep and self.sessions[sid].in_flight == 0
            ]
            if idle:
                return min(idle, key=lambda sid: self.sessions[sid].last_used)
        return None


class _Manager:
    """What the guard needs of the SDK's session manager (private attributes, read here only)."""

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self._manager = manager

    def is_open(self, session_id: str) -> bool:
        return session_id in self._manager._server_instances

    async def close(self, session_id: str) -> None:
        transport = self._manager._server_instances.get(session_id)
        if transport is not None:
            await self._manager._discard_session(session_id, transport)


class SessionGuard:
    """ASGI middleware in front of the MCP endpoint; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        limits: SessionLimits,
        manager: ManagerLocator,
    ) -> None:
        self.app = app
        self._path = path
        self._limits = limits
        self._current_manager = manager
        self._manager: StreamableHTTPSessionManager | None = None
        self._book = _Book()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._sessions_apply(scope)
        if manager is None:
            await self.app(scope, receive, send)
            return
        session_id = version = None
        for name, value in scope["headers"]:
            if name == _SESSION_HEADER:
                session_id = value.decode("latin-1")
            elif name == _VERSION_HEADER:
                version = value.decode("latin-1")
        if session_id is not None:
            await self._serve_in_session(session_id, scope, receive, send)
            return
        caller = None
        if scope["method"] == "POST" and (version is None or version in HANDSHAKE_PROTOCOL_VERSIONS):
            caller = _caller(scope)  # else a sessionless era: nothing to admit
        if caller is None:
            await self.app(scope, receive, send)
        else:
            await self._open_session(caller, scope, receive, send)

    def _sessions_apply(self, scope: Scope) -> StreamableHTTPSessionManager | None:
        """The session manager if this request is for a stateful MCP endpoint, else None."""
        if scope["type"] != "http" or scope["path"] != self._path:
            return None
        manager = self._current_manager()
        if manager is None or manager.stateless:
            return None
        if manager is not self._manager:  # a new lifespan: a new manager with no sessions yet
            self._manager, self._book = manager, _Book()
        return manager

    async def _serve_in_session(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self._book.sessions.get(session_id)
        if session is None:
            await self.app(scope, receive, send)
            return
        session.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            session.in_flight -= 1
            session.last_used = time.monotonic()
            if self._manager is not None and not _Manager(self._manager).is_open(session_id):
                self._book.forget(session_id)  # ended by DELETE, idle expiry or a crash

    async def _open_session(self, caller: str, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._manager is not None
        manager = _Manager(self._manager)
        refusal = self._admit(caller, manager)
        if refusal is not None:
            await _send_refusal(send, *refusal)
            return
        book = self._book
        opened: list[str] = []

        async def note_session(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                opened.extend(v.decode("latin-1") for k, v in message.get("headers", []) if k == _SESSION_HEADER)
            await send(message)

        try:
            await self.app(scope, receive, note_session)
        finally:
            book.opening[caller] -= 1
            if not book.opening[caller]:
                del book.opening[caller]
            opened = [session_id for session_id in opened if manager.is_open(session_id)]
            for session_id in opened:
                book.add(session_id, caller)
        for session_id in opened:
            for victim, reason in self._make_room(caller, keep=session_id).items():
                log.info("session closed to make room", extra={"caller": caller, "reason": reason})
                await manager.close(victim)

    def _admit(self, caller: str, manager: _Manager) -> tuple[int, str, dict[str, Any]] | None:
        """Refuse ``caller`` a new session if no room could be made for it, else reserve its place.

        Decided without awaiting, so two openings at once cannot both count on the same room.
        Room is made only once a session has been opened (:meth:`_make_room`): a request that
        opens none (not an initialize, or refused) closes nobody's session.
        """
        book, limits = self._book, self._limits
        for session_id in list(book.by_caller.get(caller, ())):
            if not manager.is_open(session_id):
                book.forget(session_id)
        if book.held(caller) >= limits.per_caller and book.least_recently_used_idle(caller) is None:
            return _caller_refusal(limits.per_caller)
        if book.total() >= limits.total:
            for session_id in [sid for sid in book.sessions if not manager.is_open(sid)]:
                book.forget(session_id)
            if book.total() >= limits.total and book.eviction_candidate() is None:
                return _capacity_refusal(limits.total)
        book.opening[caller] = book.opening.get(caller, 0) + 1
        return None

    def _make_room(self, caller: str, keep: str) -> dict[str, str]:
        """Take sessions out of the book until ``caller`` and the server are within their caps.

        Returns the sessions to close, with the reason. ``keep`` (the new session) stays.
        """
        book, limits = self._book, self._limits
        evict: dict[str, str] = {}
        if book.held(caller) > limits.per_caller and (victim := book.least_recently_used_idle(caller, keep)):
            book.forget(victim)
            evict[victim] = "caller at max_sessions_per_caller"
        if book.total() > limits.total and (victim := book.eviction_candidate(keep)):
            book.forget(victim)
            evict[victim] = "server at max_sessions"
        return evict


def _caller(scope: Scope) -> str | None:
    """Whose session this would be: None if not authenticated (the endpoint answers 401)."""
    user = scope.get("user")
    if user is None:
        return caller_of(None).identity  # no auth configured
    if not isinstance(user, AuthenticatedUser):
        return None
    return caller_of(user.access_token).identity


def _caller_refusal(cap: int) -> tuple[int, str, dict[str, Any]]:
    steps = [
        (
            "End sessions you no longer need (HTTP DELETE to the MCP endpoint with their Mcp-Session-Id header), "
            "or wait for a request in one of them to finish, then initialize again."
        ),
        "Reuse one session for many calls instead of opening a session per call.",
    ]
    message = f"Too many open sessions for this caller: all {cap} are busy"
    return 429, message, {"max_sessions_per_caller": cap, "recovery_steps": steps}


def _capacity_refusal(cap: int) -> tuple[int, str, dict[str, Any]]:
    steps = [f"Retry after {RETRY_AFTER_S} seconds: sessions free up as their requests finish."]
    message = f"The server's {cap} sessions are all busy"
    return 503, message, {"max_sessions": cap, "recovery_steps": steps}


async def _send_refusal(send: Send, status: int, message: str, data: dict[str, Any]) -> None:
    data = {"error_code": "RATE_LIMITED", "retryable": True, "retry_after_s": RETRY_AFTER_S, **data}
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message, "data": data}})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_S).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


class ManagerLocator:
    """Finds the session manager FastMCP's app creates anew in each lifespan.

    The guard is made before that app exists (it is one of the app's middleware), so the app
    is attached once built.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._endpoint: Any = None

    def attach(self, app: Any) -> None:
        endpoint = next(route.endpoint for route in app.routes if getattr(route, "path", None) == self._path)
        while not hasattr(endpoint, "session_manager"):
            endpoint = endpoint.app  # FastMCP's RequireAuthMiddleware around the MCP endpoint
        self._endpoint = endpoint

    def __call__(self) -> StreamableHTTPSessionManager | None:
        return None if self._endpoint is None else self._endpoint.session_manager
