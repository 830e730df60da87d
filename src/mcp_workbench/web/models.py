"""Arguments of ``web_fetch``: every field bounded, unknown fields refused."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_URL_CHARS = 8192
MAX_PAGE_CHARS = 100_000


class FetchArgs(BaseModel):
    """Fetch one URL."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="The http:// or https:// URL to fetch.",
    )
    format: Literal["markdown", "text", "raw", "json"] = Field(
        default="markdown",
        description="markdown: an HTML page's main content as Markdown (other text as it is); "
        "text: the main content as plain text; raw: the body as received; json: the body as pretty-printed JSON.",
    )
    max_length: int = Field(
        default=5000, ge=1, le=MAX_PAGE_CHARS, description="Most characters to return in this call."
    )
    start_index: int = Field(
        default=0,
        ge=0,
        le=1_000_000_000,
        description="Character to start at; pass the previous answer's next_start_index to read on.",
    )
