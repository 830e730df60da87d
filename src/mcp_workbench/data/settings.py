"""``[data]``: the SQL capability's section of the configuration.

The root settings compose this section; the data capability gets it with the embedded
``workspace`` source already filled in (:meth:`DataSettings.with_workspace`), so nothing here
needs to know where the server keeps its state.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from mcp_workbench.platform.config import Section

WORKSPACE_SOURCE = "workspace"
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"

_FUNCTION_NAME = re.compile(r"^[^.\s\"]{1,63}(\.[^.\s\"]{1,63})?$")


class SourceSettings(Section):
    """One named database: ``[data.sources.NAME]``."""

    url: str = Field(
        description="sqlite:///relative/path.db, sqlite:////absolute/path.db, or "
        "postgresql://user:password@host:port/dbname"
    )
    read_only: bool = Field(
        default=False, description="Refuse every write to this source (data_write answers READ_ONLY)."
    )
    allow_functions: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="PostgreSQL: the database's own functions that data_read 'sql' may call besides the "
        "built-in read-only ones, as written in SQL: 'name' (called unqualified) or 'schema.name'. List "
        "only functions that merely read; functions that run SQL text, open connections or take locks "
        "stay refused.",
    )

    @field_validator("url")
    @classmethod
    def _known_engine(cls, url: str) -> str:
        scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}; allowed: sqlite:///PATH, postgresql://USER@HOST/DB"
            )
        if scheme == "sqlite" and (":memory:" in url or url.rstrip("/") in {"sqlite:", "sqlite://"}):
            raise ValueError("an in-memory SQLite database cannot be shared; give a file path")
        _parseable_url(url)
        return url

    @field_validator("allow_functions")
    @classmethod
    def _function_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _FUNCTION_NAME.match(name):
                raise ValueError(f"allow_functions entry {name!r} is not 'name' or 'schema.name'")
        return names


# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url): a URL it matches with an
# all-digit port is one SQLAlchemy's make_url accepts, so start-up need not import SQLAlchemy.
_SQLALCHEMY_URL = re.compile(
    r"(?P<name>[\w+]+)://(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?"
    r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?"
)


def _parseable_url(url: str) -> None:
    """Refuse a URL the engine could not open, as a configuration error naming the key rather than
    a traceback at the first call. Only a URL the cheap pattern does not vouch for costs the
    import of SQLAlchemy."""
    match = _SQLALCHEMY_URL.match(url)
    port = match["port"] if match else ""
    if port is None or (port.isascii() and port.isdigit()):
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:
        hint = "the port must be a number" if match else "write e.g. postgresql://USER:PASSWORD@HOST:5432/DBNAME"
        raise ValueError(f"not a database URL SQLAlchemy can open ({hint})") from exc


class DataSettings(Section):
    """``[data]``: the SQL capability."""

    sources: dict[str, SourceSettings] = Field(
        default_factory=dict,
        description="Named databases. 'workspace' (a SQLite file in data_dir) exists unless overridden here.",
    )
    default_limit: int = Field(default=100, ge=1, le=100_000, description="Rows per page when no limit is given.")
    max_rows: int = Field(default=1000, ge=1, le=100_000, description="Largest page any read may return.")
    max_result_bytes: int = Field(
        default=1_000_000, ge=1_000, le=100_000_000, description="Cap on a result's JSON size; the page is cut there."
    )
    statement_timeout_s: float = Field(default=15.0, gt=0, le=3600, description="Time budget of one statement.")
    search_scan_rows: int = Field(
        default=50_000, ge=100, le=10_000_000, description="Rows a search without a full-text index may scan per table."
    )
    search_max_tables: int = Field(default=50, ge=1, le=1000, description="Tables one search across all tables visits.")
    max_write_rows: int = Field(default=1000, ge=1, le=100_000, description="Rows one insert may carry.")
    pool_size: int = Field(default=5, ge=1, le=100, description="Connections per PostgreSQL engine.")

    @field_validator("sources")
    @classmethod
    def _valid_names(cls, sources: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        for name in sources:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"source name {name!r} must match {NAME_PATTERN}")
        return sources

    def with_workspace(self, data_dir: Path) -> DataSettings:
        """This section with the embedded ``workspace`` source (a SQLite file in ``data_dir``)
        first, unless the configuration names its own ``workspace``."""
        if WORKSPACE_SOURCE in self.sources:
            return self
        path = (data_dir / "workspace.db").resolve()
        sources = {WORKSPACE_SOURCE: SourceSettings(url=f"sqlite:///{path}"), **self.sources}
        return self.model_copy(update={"sources": sources})
