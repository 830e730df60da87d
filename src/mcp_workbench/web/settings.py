"""``[web]``: what the fetch tool may reach, how it identifies itself, and its limits."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HOST_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
HOST_PATTERN = re.compile(rf"^(?:\*\.)?{_HOST_LABEL}(?:\.{_HOST_LABEL})*$")


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts or CIDRs reachable despite the SSRF guard (intranets, tests on 127.0.0.1). "
        "An address or CIDR ('10.1.0.0/16', '127.0.0.1') allows those addresses; a host name "
        "('wiki.corp.example', '*.corp.example') allows whatever that name resolves to.",
    )
    ignore_robots: bool = Field(default=False, description="Skip robots.txt (trusted deployments only).")
    user_agent: str = Field(
        default="mcp-workbench",
        min_length=1,
        max_length=200,
        description="User-Agent header of every request; its first word is the name robots.txt rules are matched to.",
    )
    timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="Budget of one fetch, all redirects and robots.txt included."
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120, description="Budget of one TCP/TLS connection.")
    max_bytes: int = Field(
        default=5_000_000,
        ge=1_000,
        le=200_000_000,
        description="Cap on a body, counted after decompression; longer bodies are cut there and marked truncated.",
    )
    max_redirects: int = Field(default=5, ge=0, le=20, description="Redirects followed per fetch, each re-checked.")
    max_connections: int = Field(default=20, ge=1, le=1000, description="Open connections of the pooled client.")
    cache_max_entries: int = Field(
        default=256, ge=0, le=1_000_000, description="Responses kept in the HTTP cache; 0 turns the cache off."
    )
    cache_max_bytes: int = Field(
        default=50_000_000, ge=0, le=10_000_000_000, description="Bytes of response bodies kept in the HTTP cache."
    )
    cache_max_age_s: int = Field(
        default=3600,
        ge=0,
        le=30 * 86400,
        description="Longest a response stays cached, whatever its headers allow; 0 turns the cache off.",
    )
    convert_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="Budget of extracting one HTML page's content, in a worker process that is killed when it "
        "runs out (the call's own budget may stop it sooner).",
    )
    convert_memory_mb: int = Field(
        default=1024, ge=64, le=65_536, description="Memory one extraction may take in its worker process."
    )
    convert_workers: int = Field(default=2, ge=1, le=64, description="Worker processes extracting pages at once.")
    robots_ttl_s: int = Field(default=3600, ge=0, le=7 * 86400, description="How long a site's robots.txt is reused.")
    resolve: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Fixed addresses for host names, like curl --resolve: {'wiki.corp.example' = ['10.0.0.7']}. "
        "The SSRF guard checks them like DNS answers.",
    )

    ca_file: str | None = Field(
        default=None,
        max_length=4096,
        description="PEM file of extra certificate authorities to trust (an intranet CA); the system's stay trusted.",
    )

    @field_validator("ca_file")
    @classmethod
    def _readable_ca_file(cls, path: str | None) -> str | None:
        if path is not None and not Path(path).expanduser().is_file():
            raise ValueError(f"{path!r} is not a file (a PEM bundle of CA certificates is expected)")
        return str(Path(path).expanduser()) if path is not None else None

    @field_validator("allow_hosts")
    @classmethod
    def _valid_allow_entries(cls, entries: list[str]) -> list[str]:
        cleaned = []
        for entry in entries:
            value = entry.strip().lower().rstrip(".")
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                if not HOST_PATTERN.match(value):
                    raise ValueError(
                        f"{entry!r} is neither an address, a CIDR (10.0.0.0/8) nor a host name (*.corp.example)"
                    ) from None
            cleaned.append(value)
        return cleaned

    @field_validator("resolve")
    @classmethod
    def _valid_overrides(cls, mapping: dict[str, list[str]]) -> dict[str, list[str]]:
        cleaned: dict[str, list[str]] = {}
        for host, addresses in mapping.items():
            name = host.strip().lower().rstrip(".")
            if not HOST_PATTERN.match(name) or name.startswith("*."):
                raise ValueError(f"{host!r} is not a host name")
            if not addresses:
                raise ValueError(f"{host!r} needs at least one address")
            try:
                cleaned[name] = [str(ipaddress.ip_address(a.strip())) for a in addresses]
            except ValueError as exc:
                raise ValueError(f"{host!r}: {exc}") from None
        return cleaned
