"""``[analysis]``: which model the ``analyze`` tool may use, and its limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from mcp_workbench.platform.config import Section
from mcp_workbench.platform.sampling.endpoint import ModelEndpointSettings


class AnalysisSettings(Section):
    prefer: Literal["client", "server"] = Field(
        default="client",
        description="client: the caller's own model when its client can sample, else the server model; "
        "server: the server model whenever one is configured.",
    )
    model: ModelEndpointSettings = Field(
        default_factory=ModelEndpointSettings,
        description="An OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, a hosted API) for callers whose "
        "client cannot sample.",
    )
    time_budget_s: float = Field(
        default=900.0,
        gt=0,
        le=86_400,
        description="Longest one analysis may take from its first round, waiting for models included; on the "
        "session and server-model routes also bounded by the tool's own time budget ([timeouts]).",
    )
    request_timeout_s: float = Field(
        default=120.0, gt=0, le=3600, description="Budget of one completion asked of a client's model (handshake era)."
    )
    max_tokens: int = Field(default=1500, ge=64, le=32_000, description="Tokens one candidate analysis may take.")
    judge_max_tokens: int = Field(default=1200, ge=64, le=32_000, description="Tokens the judge's answer may take.")
    item_chars: int = Field(
        default=20_000, ge=500, le=1_000_000, description="Characters one context item may put in front of a model."
    )
    total_chars: int = Field(
        default=60_000, ge=1000, le=4_000_000, description="Characters the whole context may put in front of a model."
    )
    item_rows: int = Field(
        default=1000, ge=1, le=100_000, description="Rows of one tabular context item that are profiled."
    )
    min_words: int = Field(default=20, ge=1, le=10_000, description="Shortest analysis the length check accepts.")
    max_words: int = Field(default=2000, ge=10, le=100_000, description="Longest analysis the length check accepts.")
    plateau_delta: float = Field(
        default=0.02, ge=0, le=1, description="Smallest gain of the best score that counts as progress."
    )
    plateau_rounds: int = Field(
        default=2, ge=1, le=8, description="Iterations without progress after which the loop stops (plateau)."
    )

    @model_validator(mode="after")
    def _bounds_in_order(self) -> AnalysisSettings:
        if self.min_words > self.max_words:
            raise ValueError("min_words cannot exceed max_words")
        if self.item_chars > self.total_chars:
            raise ValueError("item_chars cannot exceed total_chars")
        return self


@dataclass(frozen=True)
class AnalysisSection:
    """What the analysis capability is installed with: its ``[analysis]`` section, and the limits it
    shares with the rest of the server (``[state] max_bytes``, the tool's ``[timeouts]`` budget)."""

    analysis: AnalysisSettings
    max_state_bytes: int
    call_budget_s: float | None = None
