"""``[files]``: roots the file tools may touch, and their limits.

A root is configured as ``[files.roots.NAME]`` with ``path = "..."`` (and optionally
``read_only = true``) or with ``--root PATH`` on the command line. Each root is checked when
the settings load: the directory must exist, and the name must be a simple name. A mistake
becomes a start-up error naming the key (``files.roots.NAME.path: ...``).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ROOT_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"

KB = 1024
MB = 1024 * KB


class RootSettings(BaseModel):
    """One named root: ``[files.roots.NAME]``."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(
        description="Directory the tools may work in (relative paths are taken from the current directory); "
        "nothing outside it is reachable."
    )
    read_only: bool = Field(default=False, description="Refuse every write under this root (READ_ONLY).")

    @field_validator("path")
    @classmethod
    def _existing_directory(cls, path: Path) -> Path:
        if "\x00" in str(path):
            raise ValueError("the path contains a NUL byte")
        path = path.expanduser()
        try:
            if not path.exists():
                raise ValueError(f"directory {str(path)!r} does not exist; create it or fix the path")
            if not path.is_dir():
                raise ValueError(f"{str(path)!r} is not a directory; a root must be a directory")
        except OSError as exc:
            raise ValueError(f"{str(path)!r} cannot be checked: {exc.strerror}") from None
        return path


class FilesSettings(BaseModel):
    """``[files]``: the file capability (tools ``files_read`` and ``files_write``)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    roots: dict[str, RootSettings] = Field(
        default_factory=dict, description="Named roots; without any, the file tools are not offered."
    )
    read_only: bool = Field(
        default=False,
        description="Every root is read-only, whatever its own read_only says (files_write is not offered); "
        "also --read-only.",
    )
    max_read_bytes: int = Field(
        default=256 * KB,
        ge=1 * KB,
        le=64 * MB,
        description="Bytes of a file one read returns at most; the answer says how to read the next piece.",
    )
    max_write_bytes: int = Field(
        default=10 * MB,
        ge=1 * KB,
        le=1024 * MB,
        description="Largest file a write or an edit may produce (and the largest file an edit may open).",
    )
    max_image_bytes: int = Field(
        default=5 * MB,
        ge=1 * KB,
        le=100 * MB,
        description="Largest image returned as image content (and largest binary file served by the file "
        "resource); bigger ones are described, not sent.",
    )
    max_list_entries: int = Field(
        default=1000, ge=10, le=100_000, description="Entries one 'list' returns at most (sorted by name)."
    )
    max_tree_depth: int = Field(default=10, ge=1, le=64, description="Deepest level a 'tree' may be asked for.")
    max_tree_entries: int = Field(default=2000, ge=10, le=200_000, description="Entries one 'tree' returns at most.")
    max_search_files: int = Field(
        default=20_000, ge=10, le=10_000_000, description="Files one 'search' visits at most before it stops."
    )
    max_search_matches: int = Field(
        default=500, ge=1, le=100_000, description="Matches one 'search' returns at most (max_results is capped here)."
    )
    max_search_file_bytes: int = Field(
        default=5 * MB,
        ge=1 * KB,
        le=1024 * MB,
        description="Files larger than this are not searched for 'contains' (they are counted as skipped).",
    )
    search_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Time budget of one 'search' (and 'tree'); on expiry the matches found so far are returned.",
    )
    max_delete_entries: int = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description="A recursive delete of a directory holding more entries than this is refused (TOO_LARGE).",
    )

    @field_validator("roots")
    @classmethod
    def _valid_names(cls, roots: dict[str, RootSettings]) -> dict[str, RootSettings]:
        seen: dict[str, str] = {}
        for name in roots:
            if not re.match(ROOT_NAME_PATTERN, name):
                raise ValueError(
                    f"root name {name!r} must be a simple name: letters, digits, '_', '-' and '.', "
                    "starting with a letter, digit or '_' (at most 64 characters)"
                )
            folded = name.casefold()
            if folded in seen:
                raise ValueError(f"root names {seen[folded]!r} and {name!r} differ only in case; rename one")
            seen[folded] = name
        return roots

    @model_validator(mode="after")
    def _all_read_only(self) -> FilesSettings:
        if self.read_only:
            self.roots = {name: root.model_copy(update={"read_only": True}) for name, root in self.roots.items()}
        return self
