"""``[files]``: roots the file tools may touch, and their limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class RootSettings(BaseModel):
    """One named root: ``[files.roots.NAME]``."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="Directory the tools may work in; nothing outside it is reachable.")
    read_only: bool = Field(default=False, description="Refuse every write under this root (READ_ONLY).")


class FilesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    roots: dict[str, RootSettings] = Field(
        default_factory=dict, description="Named roots; without any, the file tools are not offered."
    )
