"""What a backup or a restore works on, as plain values: the composition root draws them from the
configuration (``mcp_workbench.backup_plan``), so this package never reads the root settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """One configured database, by the name the configuration gives it."""

    name: str
    url: str
    read_only: bool = False

    @property
    def engine(self) -> str:
        return "sqlite" if self.url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite" else "postgresql"

    @property
    def sqlite_path(self) -> Path:
        from sqlalchemy.engine import make_url

        return Path(make_url(self.url).database or "").expanduser().resolve()


@dataclass(frozen=True)
class Plan:
    """Where things are: the sources, the key store and config file, and where archives go."""

    output: Path
    keep: int
    sources: dict[str, Source]
    data_dir: Path
    key_store: Path
    config_file: Path | None
    pg_bin_dir: Path | None
