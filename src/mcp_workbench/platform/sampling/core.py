"""What an algorithm that needs a model is written against: requests, answers, steps, budgets.

Nothing here knows MCP, so a domain module (``analysis/loop.py``) can implement
:class:`Algorithm` without importing FastMCP, and a test can drive one with plain lists.

An algorithm is a step machine. ``start()`` returns the first :class:`Ask` (a batch of
completion requests and the machine's state) or :class:`Done`; ``resume(state, answers)`` takes
the answers to the last batch, in the order asked, and returns the next step. A step depends on
nothing but the algorithm's inputs, the state and the answers, so the machine can be resumed by
any process that has them: that is how a round of the 2026-07-28 guard route, answered by the
client and sent back with its sealed state, may land on another replica. ``stop(state, reason)``
ends it early (the time or round budget ran out) with whatever the state holds.

State is a JSON object the algorithm owns; keep it small (it travels to the client and back on
every guard round, sealed, within ``[state] max_bytes``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

R = TypeVar("R")

State = dict[str, Any]
"""An algorithm's state: JSON-serialisable, owned by the algorithm."""

StopReason = Literal["budget"]
"""Why a driver ends an algorithm early: its time, rounds or state size ran out."""

Progress = Callable[[float, float | None, str], Awaitable[None]]
"""``await progress(done, total, message)``: a progress notification to the caller."""


class Route(StrEnum):
    """Where completions come from for one call."""

    GUARD = "guard"  # 2026-07-28: the client's model, through InputRequiredResult rounds
    SESSION = "session"  # handshake era: the client's model, through sampling/createMessage
    SERVER_MODEL = "server_model"  # an OpenAI-compatible endpoint the operator configured
    NONE = "none"  # no model anywhere


@dataclass(frozen=True, slots=True)
class Message:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """One completion to ask for, in terms every route can express."""

    messages: tuple[Message, ...]
    max_tokens: int
    system: str | None = None
    temperature: float | None = None
    model_hints: tuple[str, ...] = ()
    intelligence_priority: float | None = None
    speed_priority: float | None = None
    cost_priority: float | None = None

    @classmethod
    def single(cls, prompt: str, *, max_tokens: int, **options: Any) -> CompletionRequest:
        """A request of one user message."""
        return cls(messages=(Message("user", prompt),), max_tokens=max_tokens, **options)


@dataclass(frozen=True, slots=True)
class Completion:
    """The answer to one request: ``text``, or ``error`` when it was refused, failed or timed out.
    ``skipped``: it failed only because another request of its round failed first (whose error is
    the one to report)."""

    text: str | None
    model: str | None = None
    stop_reason: str | None = None
    error: str | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None

    @classmethod
    def failed(cls, error: str, *, skipped: bool = False) -> Completion:
        return cls(text=None, error=error, skipped=skipped)


def first_failure(answers: Sequence[Completion]) -> Completion | None:
    """The failure that ended a round (a refusal rather than the requests it cut short), or None."""
    failed = [a for a in answers if not a.ok]
    return next((a for a in failed if not a.skipped), failed[0] if failed else None)


@dataclass(frozen=True)
class Ask:
    """A batch of requests to answer together, the state to resume from, and a word for progress."""

    requests: Sequence[CompletionRequest]
    state: State
    note: str = ""
    progress: tuple[float, float | None] = (0.0, None)


@dataclass(frozen=True)
class Done(Generic[R]):
    result: R


class Algorithm(Protocol[R]):
    """A replayable step machine (see the module docstring)."""

    def start(self) -> Ask | Done[R]: ...

    def resume(self, state: State, answers: Sequence[Completion]) -> Ask | Done[R]: ...

    def stop(self, state: State, reason: StopReason) -> Done[R]: ...


@dataclass(frozen=True, slots=True)
class Budget:
    """Wall-clock time an algorithm may take, counted from ``started`` (epoch seconds)."""

    limit_s: float
    started: float = field(default_factory=time.time)

    def remaining(self, now: float | None = None) -> float:
        return self.started + self.limit_s - (time.time() if now is None else now)

    def from_start(self, started: float) -> Budget:
        """The same limit, counted from an earlier start (a later round of one call)."""
        return Budget(self.limit_s, started)


class Pending:
    """A round handed to the client: the tool returns it as is (see ``SamplingCall.run``)."""

    __slots__ = ("payload",)

    def __init__(self, payload: Any) -> None:
        self.payload = payload


class Sampler(Protocol):
    """One tool call's access to a model, as domain code sees it.

    ``route`` says where completions come from; ``continuing`` is true on a later round of the
    guard route, where the state already holds what the first round gathered; ``max_rounds`` is
    what the route allows (an algorithm may plan its rounds to fit); ``run`` drives an algorithm
    to its result, or returns :class:`Pending` when the client must answer a round first.
    """

    @property
    def route(self) -> Route: ...

    @property
    def continuing(self) -> bool: ...

    @property
    def max_rounds(self) -> int | None:
        """Rounds the route allows one algorithm (None: no limit but time)."""

    async def run(self, algorithm: Algorithm[R], budget: Budget, progress: Progress | None = None) -> R | Pending: ...


async def announce(progress: Progress | None, ask: Ask, round_no: int, route: Route) -> None:
    """The progress notification of one round."""
    if progress is not None:
        done, total = ask.progress
        await progress(done, total, f"round {round_no} ({route}): {ask.note}" if ask.note else f"round {round_no}")
