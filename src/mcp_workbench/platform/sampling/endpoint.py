"""``[….model]``: an OpenAI-compatible chat-completions endpoint the operator configures.

Kept apart from the client (:mod:`.server_model`) so settings load without the HTTP stack.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ModelEndpointSettings(BaseModel):
    """An OpenAI-compatible chat-completions endpoint (``[analysis.model]``)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    base_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Base URL of the API, up to and including its version: 'http://127.0.0.1:11434/v1' (Ollama), "
        "'http://127.0.0.1:8000/v1' (vLLM, llama.cpp), 'https://api.openai.com/v1'. Unset: no server model.",
    )
    model: str | None = Field(default=None, max_length=256, description="Model name the endpoint knows.")
    api_key_env: str | None = Field(
        default=None,
        max_length=256,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the API key (sent as a bearer token); "
        "unset for local servers without keys.",
    )
    timeout_s: float = Field(default=120.0, gt=0, le=3600, description="Budget of one completion.")
    max_concurrency: int = Field(default=4, ge=1, le=64, description="Completions asked of the endpoint at once.")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        try:
            parsed = urlsplit(url)
            parsed.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError(f"{url!r} is not a URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"{url!r} must be an http:// or https:// URL with a host")
        return url.rstrip("/")

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)
