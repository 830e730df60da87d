"""What every source is, and what it is given to search with.

A :class:`Source` answers one sub-question at a time with a list of :class:`Evidence`. Web
sources derive from :class:`WebSource` and reach their provider only through
:meth:`SearchContext.get` (pacing, User-Agent, Retry-After and the SSRF-safe fetcher come with
it). A local source (the caller's databases and files, reached through the capability registry)
implements :class:`Source` directly and returns evidence whose ``uri`` the client can read
(``data://…``, ``files://…``); it never needs the HTTP context.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import anyio

from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.etiquette import HostRules, PoliteHttp
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.settings import ResearchSettings, SourceSettings
from mcp_workbench.web.port import ApiResponse


@runtime_checkable
class Source(Protocol):
    """One place evidence comes from.

    ``name`` is what the request's ``sources`` list and the result's ``sources`` report use.
    ``max_queries`` caps the sub-questions it answers in one run (None: the depth decides);
    slow-paced providers keep it at one. ``search`` raises :class:`SourceProblem` to report
    why it has nothing; any other exception is reported as a failure of this source alone.
    """

    @property
    def name(self) -> str: ...

    @property
    def max_queries(self) -> int | None: ...

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]: ...


class RunMemo:
    """Values computed once per run and shared by a source's concurrent queries (a feed's items)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            if key not in self._values:
                try:
                    self._values[key] = ("ok", await make())
                except SourceProblem as exc:
                    self._values[key] = ("error", exc)
            kind, value = self._values[key]
        if kind == "error":
            raise value
        return value


@dataclass
class SearchContext:
    """What one source gets for one run."""

    source: str
    settings: ResearchSettings
    config: SourceSettings | None
    limit: int  # results wanted per query
    since: dt.date | None
    deadline: float  # anyio clock
    http: PoliteHttp | None = None
    rules: HostRules = field(default_factory=HostRules)
    memo: RunMemo = field(default_factory=RunMemo)

    @property
    def base_url(self) -> str:
        base = self.config.base_url if self.config else None
        if not base:
            raise SourceProblem("skipped", f"[research.sources.{self.source}] has no base_url")
        return base

    @property
    def api_key(self) -> str | None:
        return self.config.api_key() if self.config else None

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str = "application/json",
        rules: HostRules | None = None,
    ) -> ApiResponse:
        """GET a URL of this source's provider (an absolute URL, or a path under ``base_url``)."""
        http = self.http
        if http is None:
            raise SourceProblem("failed", f"{self.source} has no HTTP client in this run")
        target = url if "://" in url else f"{self.base_url}{url}"

        async def send() -> ApiResponse:
            assert http is not None
            return await http.get(
                target, rules=rules or self.rules, deadline=self.deadline, params=params, headers=headers, accept=accept
            )

        # Sub-questions overlap, and so do their broadened retries: ask the provider each request once per run.
        key = json.dumps([target, sorted((params or {}).items()), sorted((headers or {}).items()), accept])
        response: ApiResponse = await self.memo.once(f"get:{key}", send)
        return response


class WebSource:
    """Shared parts of the public web sources: the name, the etiquette, the key."""

    name: ClassVar[str]
    max_queries: ClassVar[int | None] = None
    rules: ClassVar[HostRules] = HostRules()
    needs_key: ClassVar[bool] = False

    def etiquette(self, settings: ResearchSettings) -> HostRules:
        """The host rules before the operator's overrides; a source whose rules depend on its
        settings (Crossref's polite pool) overrides this."""
        return self.rules

    def unusable(self, settings: ResearchSettings) -> str | None:
        """Why this source cannot run with these settings, or None."""
        config = settings.sources.get(self.name)
        if config is not None and not config.base_url and self.name != "feeds":
            return f"set [research.sources.{self.name}] base_url to use it"
        if self.needs_key and config is not None and config.api_key() is None:
            return f"it needs an API key in the environment variable {config.api_key_env}"
        return None

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        raise NotImplementedError


def narrowing(query: SubQuery, most: int) -> list[str]:
    """Keyword queries for a provider that requires every word: the ``most`` most specific terms,
    then fewer, so a query that finds nothing can be asked again more broadly."""
    core = query.core()
    sizes = sorted({min(len(core), most), min(len(core), 2), 1}, reverse=True)
    return [" ".join(core[:size]) for size in sizes if size > 0]


async def first_found(attempts: list[str], ask: Callable[[str], Awaitable[list[Evidence]]]) -> list[Evidence]:
    """The answer of the first attempt that finds something; a broader retry that would run past
    the budget ends the search with nothing rather than a timeout."""
    for index, attempt in enumerate(attempts):
        try:
            found = await ask(attempt)
        except SourceProblem as exc:
            if index > 0 and exc.status in ("timeout", "rate_limited"):
                return []
            raise
        if found:
            return found
    return []


def json_body(body: bytes, *, origin: str) -> Any:
    """A response body as JSON, or a :class:`SourceProblem` saying it was not."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        said = body[:120].decode("utf-8", "replace").strip().replace("\n", " ")
        raise SourceProblem("failed", f"{origin} sent malformed JSON ({exc.__class__.__name__}): {said!r}") from None


def expect(condition: bool, origin: str, what: str) -> None:
    """A shape check on a provider's answer; failing it is a malformed answer, not a crash."""
    if not condition:
        raise SourceProblem("failed", f"{origin} answered in an unexpected shape: {what}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""
