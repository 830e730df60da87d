"""One typed settings object for the whole server.

Precedence, lowest to highest: built-in defaults < TOML config file < ``WORKBENCH_*``
environment < CLI flags. Each capability owns its section (``[data]``, ``[http]``, ...).
Settings are built once by :func:`load_settings` and passed into ``build_server(settings)``;
nothing reads a global, so tests build their own.

The config file is ``--config PATH``, else ``$WORKBENCH_CONFIG``, else ``config.toml`` in the
user config directory if it exists. Nested environment keys use ``__``:
``WORKBENCH_DATA__MAX_ROWS=500``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from mcp_workbench.analysis.settings import AnalysisSettings
from mcp_workbench.backup.settings import BackupSettings
from mcp_workbench.data.settings import DataSettings, SourceSettings
from mcp_workbench.files.settings import FilesSettings
from mcp_workbench.platform.config import Section
from mcp_workbench.platform.sealing import StateSettings
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.web.settings import WebSettings

APP_NAME = "mcp-workbench"
ENV_PREFIX = "WORKBENCH_"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
ToolGroup = Literal["data", "files", "web", "analysis", "research"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and what is allowed."""


class JwtSettings(Section):
    """``[http.jwt]``: bearer JWTs from an organisation's identity provider (``auth = "jwt"``)."""

    jwks_uri: str | None = Field(default=None, description="URL of the issuer's JSON Web Key Set.")
    public_key: str | None = Field(default=None, description="PEM public key (or shared secret for HS*).")
    issuer: str | None = Field(default=None, description="Required 'iss' claim.")
    audience: str | None = Field(default=None, description="Required 'aud' claim.")
    algorithm: str = Field(default="RS256", description="Signing algorithm to accept.")
    require_exp: bool = Field(
        default=True,
        description="Refuse tokens without an 'exp' claim (a token that never expires works until the key rotates).",
    )
    leeway_s: float = Field(
        default=30.0,
        ge=0,
        le=30,
        description="Clock skew allowed when checking 'nbf' (not valid before); at most 30 s, the skew "
        "FastMCP's own check allows.",
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> JwtSettings:
        if self.jwks_uri and self.public_key:
            raise ValueError("give either jwks_uri or public_key, not both")
        return self


class HttpSettings(Section):
    """``[http]``: the streamable HTTP transport."""

    auth: Literal["keys", "jwt", "none"] = Field(
        default="keys",
        description="keys: API keys made with `mcp-workbench keys create`; jwt: see [http.jwt]; "
        "none: no auth, loopback only (also --no-auth).",
    )
    jwt: JwtSettings = Field(default_factory=JwtSettings)
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes; more than one implies stateless.")
    stateless: bool = Field(default=False, description="Serve without sessions (any replica can answer any request).")
    shutdown_grace_s: float = Field(
        default=20.0,
        ge=0,
        le=600,
        description="On SIGTERM, how long in-flight calls may finish before they are cancelled.",
    )
    max_sessions: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="Open sessions (handshake era, stateful) in total; at the cap the least recently used "
        "idle session is closed to make room, and only when all are busy is a new one refused (503).",
    )
    max_sessions_per_caller: int = Field(
        default=16,
        ge=1,
        le=10_000,
        description="Open sessions per caller (key, JWT subject); beyond it the caller's own least recently "
        "used idle session is closed, or, if all are busy, that caller gets 429.",
    )
    session_idle_timeout_s: float = Field(
        default=1800.0, gt=0, le=86_400, description="A session with no request for this long is closed."
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="A request's headers must arrive within this long (from the connection or its first byte).",
    )
    body_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="A request's body must arrive within this long after its headers."
    )
    max_connections_per_address: int = Field(
        default=100,
        ge=0,
        le=100_000,
        description="Open connections one client address may hold (per server process; 0: no cap). "
        "Behind a reverse proxy every client shares the proxy's address: raise it or use 0.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="If set, /metrics requires 'Authorization: Bearer <token>'."
    )

    host: str = Field(default="127.0.0.1", description="Interface to bind; loopback unless told otherwise.")
    port: int = Field(default=8000, ge=0, le=65535)
    path: str = Field(default="/mcp", description="Path of the MCP endpoint.")
    host_origin_protection: bool = Field(
        default=True, description="Validate Host and Origin headers (DNS-rebinding protection)."
    )
    allowed_hosts: list[str] = Field(default_factory=list, description="Extra Host header values to accept.")
    allowed_origins: list[str] = Field(default_factory=list, description="Extra browser origins to accept.")
    json_response: bool = Field(default=True, description="Answer with plain JSON instead of SSE when possible.")

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("must start with '/'")
        return path

    @model_validator(mode="after")
    def _safe_combinations(self) -> HttpSettings:
        if self.auth == "none" and not is_loopback_host(self.host):
            raise ValueError(f"auth = 'none' binds only to loopback; host {self.host!r} is not (configure auth)")
        if self.max_sessions_per_caller > self.max_sessions:
            raise ValueError("max_sessions_per_caller cannot exceed max_sessions")
        if self.auth == "jwt" and not (self.jwt.jwks_uri or self.jwt.public_key):
            raise ValueError("auth = 'jwt' needs http.jwt.jwks_uri or http.jwt.public_key")
        return self


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LimitsSettings(Section):
    """``[limits]``: calls per caller per tool, e.g. "120/minute"; shared through Redis across replicas."""

    default: str = Field(default="120/minute", description="Limit of each tool for each caller.")
    tools: dict[str, str] = Field(default_factory=dict, description="Per-tool limits, e.g. data_read = '30/minute'.")
    costs: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Cost of an operation in limit units, e.g. [limits.costs.data_read] sql = 5 (default 1).",
    )
    storage: str = Field(default="memory://", description="memory:// (one process) or redis://HOST:PORT/DB (shared).")
    on_storage_error: Literal["open", "closed"] = Field(
        default="open",
        description="If the storage is unreachable: 'open' lets calls through (and logs), 'closed' refuses them.",
    )

    @field_validator("default")
    @classmethod
    def _parse_default(cls, value: str) -> str:
        return _valid_limit(value)

    @field_validator("tools")
    @classmethod
    def _parse_tools(cls, tools: dict[str, str]) -> dict[str, str]:
        return {name: _valid_limit(value) for name, value in tools.items()}

    @field_validator("storage")
    @classmethod
    def _known_storage(cls, storage: str) -> str:
        from mcp_workbench.platform.limits import known_storage

        return known_storage(storage)


def _valid_limit(value: str) -> str:
    from mcp_workbench.platform.limits import parse_rates

    try:
        parse_rates(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a rate limit; write e.g. '60/minute' or '10/second;1000/day'") from None
    return value


class TimeoutSettings(Section):
    """``[timeouts]``: how long one tool call may take before it is cancelled (TIMEOUT)."""

    default_s: float = Field(default=60.0, gt=0, le=3600, description="Budget of every tool call.")
    tools: dict[str, float] = Field(default_factory=dict, description="Per-tool budgets, e.g. web_fetch = 30.")

    def for_tool(self, tool: str) -> float:
        return self.tools.get(tool, self.default_s)


class Settings(BaseSettings):
    """Everything the server can be told. See the README's configuration reference."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)),
        description="Where the workspace database and other state live.",
    )
    transport: Literal["stdio", "http"] = Field(default="stdio", description="How clients connect.")
    log_level: LogLevel = Field(default="INFO", description="Threshold of the JSON log lines on stderr.")
    tools: list[ToolGroup] = Field(
        default_factory=lambda: list(get_args(ToolGroup)),
        description="Capability groups to offer; drop some to fit a client's tool budget.",
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    research: ResearchSettings = Field(default_factory=ResearchSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _backup_sources_configured(self) -> Settings:
        self.backup.check_sources(list(self.sources()))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init = CLI flags, then the environment, then the TOML file; defaults come last.
        return (init_settings, _EnvSource(settings_cls), _FileSource(settings_cls))

    def enabled(self, group: str) -> bool:
        return group in self.tools

    def sources(self) -> dict[str, SourceSettings]:
        """Configured sources plus the embedded default ``workspace`` (unless overridden)."""
        return self.data_section().sources

    def data_section(self) -> DataSettings:
        """The ``[data]`` section as the data capability gets it: with its workspace source."""
        return self.data.with_workspace(self.data_dir)

    @property
    def research_pacing_storage(self) -> str:
        """Where research books its turns at the providers: its own setting, else where the rate
        limits are shared (a deployment that shares one shares the other)."""
        return self.research.pacing_storage or self.limits.storage


class _EnvSource(EnvSettingsSource):
    """``WORKBENCH_*`` variables, where a list may also be written comma-separated
    (``WORKBENCH_TOOLS=data,web``) and a value that cannot be decoded is a :class:`ConfigError`
    naming the variable, not a library traceback."""

    def decode_complex_value(self, field_name: str, field: FieldInfo | None, value: Any) -> Any:
        try:
            return json.loads(value)
        except ValueError:
            pass
        annotation = field.annotation if field is not None else None
        if get_origin(annotation) in {list, tuple, set, frozenset}:
            return [item.strip() for item in value.split(",") if item.strip()]
        variable = self._variable_named(field_name, value)
        kind = "a table" if get_origin(annotation) is dict or annotation is None else "a structured value"
        raise ConfigError(
            f"invalid configuration:\n  {variable}: {kind} is written as JSON here, "
            f'e.g. {variable}=\'{{"name": "value"}}\' (got {value[:80]!r})'
        )

    def _variable_named(self, field_name: str, value: str) -> str:
        """The variable that holds ``value`` for ``field_name`` (names are case-insensitive)."""
        for name, held in self.env_vars.items():
            if held == value and name.lower().endswith(field_name.lower()):
                return name.upper()
        return f"{ENV_PREFIX}{field_name.upper()}"


_file_data: ContextVar[dict[str, Any] | None] = ContextVar("workbench_config_file_data", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The parsed TOML config file, handed over by :func:`load_settings`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_file_data.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_file_data.get() or {})


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def resolve_config_path(explicit: Path | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """``--config`` beats ``$WORKBENCH_CONFIG`` beats the default location (used only if present)."""
    if explicit is not None:
        return explicit
    from_env = environ.get(f"{ENV_PREFIX}CONFIG")
    if from_env:
        return Path(from_env)
    default = default_config_path()
    return default if default.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None


def load_settings(config_path: Path | None = None, **cli_overrides: Any) -> Settings:
    """Build the settings from every layer; raise :class:`ConfigError` with a readable message."""
    path = resolve_config_path(config_path)
    file_data = read_config_file(path) if path is not None else {}
    token = _file_data.set(file_data)
    try:
        return Settings(**{k: v for k, v in cli_overrides.items() if v is not None})
    except ValidationError as exc:
        origin = f" (config file: {path})" if path else ""
        raise ConfigError(describe_validation_error(exc) + origin) from None
    except SettingsError as exc:  # a value no source could decode, named by its field
        raise ConfigError(f"invalid configuration: {exc}") from None
    finally:
        _file_data.reset(token)


def _key_part(part: object) -> str:
    """A key as written in a config file; a key of other characters is quoted, so the message
    stays one line per problem whatever a caller put in a key."""
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_*.-]+", text) else repr(text)


def describe_validation_error(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        key = ".".join(_key_part(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
