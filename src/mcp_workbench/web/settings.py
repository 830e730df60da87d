"""``[web]``: what the fetch tool may reach and how it identifies itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts or CIDRs reachable despite the SSRF guard (intranets, tests on 127.0.0.1).",
    )
    ignore_robots: bool = Field(default=False, description="Skip robots.txt (trusted deployments only).")
    user_agent: str = Field(default="mcp-workbench", description="User-Agent header of every request.")
