"""``[research]``: which sources a research run may ask, how it identifies itself, and its budgets.

``[research.sources.NAME]`` entries are merged onto the defaults of that source, so an operator
writes only what changes (``enabled = false``, a ``base_url`` pointing at a mirror or a test
server). ``base_url`` is the origin the provider's own paths are appended to. Keyless sources
are on by default; keyed ones are opt-in, and read their key from the environment variable
named by ``api_key_env`` (never from the file).

Pacing defaults are the providers' published etiquette; ``min_interval_s`` and
``max_concurrent`` may tighten or (for a private mirror or a test server) relax them.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mcp_workbench import __version__

Depth = Literal["quick", "standard", "deep"]

MAX_TIME_BUDGET_S = 55.0  # most clients give up on a call at 60 s
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SourceSettings(BaseModel):
    """One source. Fields left out take that source's default (see ``DEFAULT_SOURCES``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(description="Ask this source in runs that do not name their sources.")
    base_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Origin the provider's paths are appended to, e.g. 'https://export.arxiv.org'.",
    )
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the source's API key (keyed sources only)."
    )
    timeout_s: float = Field(default=20.0, gt=0, le=MAX_TIME_BUDGET_S, description="Budget of this source in one run.")
    min_interval_s: float | None = Field(
        default=None, ge=0, le=600, description="Least time between two requests to this host (default: etiquette)."
    )
    max_concurrent: int | None = Field(
        default=None, ge=1, le=32, description="Requests in flight to this host at once (default: etiquette)."
    )
    weight: float = Field(
        default=1.0, ge=0, le=10, description="Weight of this source's own ranking when results are fused."
    )

    @field_validator("base_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", text):
            raise ValueError(f"{value!r} is not an http(s) URL such as 'https://api.crossref.org'")
        return text

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    def api_key(self) -> str | None:
        """The key from the environment, or None when unset or empty."""
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env) or None


DEFAULT_SOURCES: dict[str, dict[str, Any]] = {
    "wikipedia": {"enabled": True, "base_url": "https://en.wikipedia.org"},
    "arxiv": {"enabled": True, "base_url": "https://export.arxiv.org"},
    "crossref": {"enabled": True, "base_url": "https://api.crossref.org"},
    "hackernews": {"enabled": True, "base_url": "https://hn.algolia.com"},
    "gdelt": {"enabled": True, "base_url": "https://api.gdeltproject.org"},
    "feeds": {"enabled": True},
    "openalex": {"enabled": False, "base_url": "https://api.openalex.org", "api_key_env": "OPENALEX_API_KEY"},
    "semantic_scholar": {
        "enabled": False,
        "base_url": "https://api.semanticscholar.org",
        "api_key_env": "SEMANTIC_SCHOLAR_API_KEY",
    },
    "pubmed": {"enabled": False, "base_url": "https://eutils.ncbi.nlm.nih.gov", "api_key_env": "NCBI_API_KEY"},
    "searxng": {"enabled": False},
}


class DepthPreset(BaseModel):
    """How much one run does at a depth."""

    model_config = ConfigDict(extra="forbid")

    sub_questions: int = Field(ge=1, le=8, description="Sub-questions planned (the question itself is the first).")
    results_per_query: int = Field(ge=1, le=50, description="Results asked of a source per query.")
    queries_per_source: int = Field(ge=1, le=8, description="Most queries one source gets (its own cap may be lower).")
    read_pages: int = Field(ge=0, le=10, description="Top web pages read for better passages, when a reader is given.")


DEFAULT_DEPTHS: dict[str, dict[str, int]] = {
    "quick": {"sub_questions": 1, "results_per_query": 8, "queries_per_source": 1, "read_pages": 0},
    "standard": {"sub_questions": 3, "results_per_query": 10, "queries_per_source": 3, "read_pages": 3},
    "deep": {"sub_questions": 5, "results_per_query": 20, "queries_per_source": 5, "read_pages": 6},
}


class ResearchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    contact: str | None = Field(
        default=None,
        max_length=200,
        description="mailto or URL for the User-Agent and polite pools ('mailto:ops@example.org'). Wikipedia asks "
        "for one, and Crossref allows three requests a second with it instead of one.",
    )
    feeds: list[str] = Field(
        default_factory=list, max_length=50, description="RSS or Atom feed URLs the 'feeds' source reads."
    )
    sources: dict[str, SourceSettings] = Field(default_factory=dict, description="Per-source settings by name.")
    time_budget_s: float = Field(
        default=45.0, gt=0, le=MAX_TIME_BUDGET_S, description="Default budget of one call; a call may ask for less."
    )
    heartbeat_s: float = Field(
        default=10.0, gt=0, le=15, description="Longest silence between progress notifications while a run works."
    )
    max_response_bytes: int = Field(
        default=2_000_000, ge=10_000, le=50_000_000, description="Cap on one source response; larger is a failure."
    )
    max_state_bytes: int = Field(
        default=48_000, ge=4_000, le=1_000_000, description="Cap on a continuation's JSON before it is sealed."
    )
    depths: dict[Depth, DepthPreset] = Field(default_factory=dict, description="Presets of quick/standard/deep.")
    pacing_storage: str | None = Field(
        default=None,
        description="Where the turns at each provider are booked: memory:// (this process) or redis://HOST:PORT/DB "
        "(shared by every worker and replica, so together they keep each provider's etiquette). "
        "Unset: the same as [limits] storage.",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        given = data.get("sources") or {}
        if not isinstance(given, dict):
            return data
        unknown = sorted(set(given) - set(DEFAULT_SOURCES))
        if unknown:
            raise ValueError(f"unknown research source(s) {unknown}; known: {sorted(DEFAULT_SOURCES)}")
        merged: dict[str, Any] = {}
        for name, defaults in DEFAULT_SOURCES.items():
            entry = given.get(name, {})
            if isinstance(entry, SourceSettings):
                entry = entry.model_dump(exclude_unset=True)
            merged[name] = {**defaults, **entry}
        data["sources"] = merged
        depths = data.get("depths") or {}
        if isinstance(depths, dict):
            data["depths"] = {
                name: {**preset, **(_dumped(depths.get(name)) or {})} for name, preset in DEFAULT_DEPTHS.items()
            }
        return data

    @field_validator("contact")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip()
        if _EMAIL.match(text) and not text.lower().startswith("mailto:"):
            text = f"mailto:{text}"
        if not (re.match(r"^mailto:[^@\s]+@[^@\s]+$", text) or re.match(r"^https?://\S+$", text)):
            raise ValueError(f"{value!r} is neither an e-mail address, a mailto: nor an http(s) URL")
        return text

    @field_validator("pacing_storage")
    @classmethod
    def _pacing_storage(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from mcp_workbench.platform.limits import known_storage

        return known_storage(value.strip())

    @field_validator("feeds")
    @classmethod
    def _feeds(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://\S+$", url.strip()):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return [url.strip() for url in urls]

    @property
    def mailto(self) -> str | None:
        """The contact's e-mail address, for the polite pools that take one (Crossref, NCBI)."""
        return self.contact.removeprefix("mailto:") if self.contact and self.contact.startswith("mailto:") else None

    @property
    def user_agent(self) -> str:
        """One identifying User-Agent for every research request (Wikipedia's policy asks for a contact)."""
        contact = f"; +{self.contact}" if self.contact else ""
        return f"mcp-workbench/{__version__} (research{contact})"

    def source(self, name: str) -> SourceSettings:
        return self.sources[name]

    def depth(self, name: Depth) -> DepthPreset:
        return self.depths[name]


def _dumped(value: Any) -> dict[str, Any] | None:
    if isinstance(value, DepthPreset):
        return value.model_dump()
    return value if isinstance(value, dict) else None
