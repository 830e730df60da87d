"""Argument models of the file tools, one per operation.

Every field is bounded, so an oversized request is a VALIDATION_ERROR before any file is
touched. Bounds that come from configuration (``max_read_bytes``, ``max_write_bytes``, the
search and tree caps) are applied again by the domain code. Paths are checked for shape here
only by length; their safety rules live in :mod:`mcp_workbench.files.paths`.

Field names shared by several operations of one tool have one schema (the tool publishes a
single flat schema): ``path`` defaults to ``"."`` in every ``files_read`` operation and is
required in every ``files_write`` one.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from mcp_workbench.files.paths import MAX_PATH_CHARS
from mcp_workbench.files.textio import text_codec

MAX_CONTENT_CHARS = 200_000_000
MAX_EDIT_CHARS = 10_000_000
MAX_EDITS = 100
MAX_PATTERNS = 50
MAX_LINE = 1_000_000_000

RootName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="Name of the root (see operation 'roots'); may be omitted when only one root is configured."),
]
ReadPath = Annotated[
    str,
    StringConstraints(max_length=MAX_PATH_CHARS),
    Field(description="Path relative to the root, '/' between names; '.' is the root itself."),
]
WritePath = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_PATH_CHARS),
    Field(description="Path relative to the root, '/' between names (e.g. 'src/app.py')."),
]
Glob = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Encoding = Annotated[str, StringConstraints(min_length=1, max_length=40)]
LineNumber = Annotated[int, Field(ge=1, le=MAX_LINE)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


def _known_encoding(value: str | None) -> str | None:
    """``value`` as the caller spelled it (messages repeat it), once it names a text encoding;
    unknown names and non-text codecs (``rot13``, ``hex``, ``idna``) are a VALIDATION_ERROR
    naming the ``encoding`` field."""
    if value is not None:
        text_codec(value)
    return value


# --- files_read ---------------------------------------------------------------------------


class RootsArgs(_Args):
    """list the configured roots (name, directory, read-only or not)"""

    operation: Literal["roots"]


class ListArgs(_Args):
    """entries of one directory: name, type, size, modification time"""

    operation: Literal["list"]
    root: RootName | None = None
    path: ReadPath = "."
    pattern: Glob | None = Field(
        default=None,
        description="Glob on names, .gitignore style: '*.py' matches at any depth, 'src/**/*.ts' below path, "
        "'**' spans directories.",
    )


class TreeArgs(_Args):
    """the directory tree below a path, depth-limited"""

    operation: Literal["tree"]
    root: RootName | None = None
    path: ReadPath = "."
    depth: int = Field(default=3, ge=1, le=64, description="Levels to descend (1 = like 'list').")
    exclude: Annotated[list[Glob], Field(max_length=MAX_PATTERNS)] = Field(
        default_factory=list, description="Globs to leave out, .gitignore style (e.g. ['node_modules', '*.log'])."
    )
    gitignore: bool = Field(default=True, description="Leave out what .gitignore files ignore, and the .git directory.")


class ReadArgs(_Args):
    """a file's content: text by lines or from a byte offset, images as images, other binaries described"""

    operation: Literal["read"]
    root: RootName | None = None
    path: ReadPath = "."
    start_line: LineNumber | None = Field(default=None, description="First line to return (1-based).")
    end_line: LineNumber | None = Field(default=None, description="Last line to return (inclusive).")
    head: LineNumber | None = Field(default=None, description="Return the first N lines.")
    tail: LineNumber | None = Field(default=None, description="Return the last N lines.")
    offset: int | None = Field(
        default=None, ge=0, le=2**53, description="Byte offset to read from (use next_offset from a previous read)."
    )
    encoding: Encoding | None = Field(default=None, description="Decode with this encoding instead of detecting it.")

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str | None) -> str | None:
        return _known_encoding(value)

    @model_validator(mode="after")
    def _one_selection(self) -> ReadArgs:
        chosen = [
            name
            for name, present in (
                ("start_line/end_line", self.start_line is not None or self.end_line is not None),
                ("head", self.head is not None),
                ("tail", self.tail is not None),
                ("offset", self.offset is not None),
            )
            if present
        ]
        if len(chosen) > 1:
            raise ValueError(f"give only one of start_line/end_line, head, tail, offset (got {', '.join(chosen)})")
        if self.start_line and self.end_line and self.end_line < self.start_line:
            raise ValueError("end_line must not be smaller than start_line")
        return self


class SearchArgs(_Args):
    """find files below a path by name ('pattern' glob) and/or content ('contains' regular expression)"""

    operation: Literal["search"]
    root: RootName | None = None
    path: ReadPath = "."
    pattern: Glob | None = None
    contains: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None,
        description="Regular expression (Python syntax) searched in file contents, line by line; "
        "returns path, line number and the line.",
    )
    ignore_case: bool = Field(default=False, description="Match 'contains' without regard to case.")
    exclude: Annotated[list[Glob], Field(max_length=MAX_PATTERNS)] = Field(default_factory=list)
    gitignore: bool = True
    max_results: int = Field(default=100, ge=1, le=100_000, description="Matches to return at most.")

    @field_validator("contains")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _something_to_find(self) -> SearchArgs:
        if self.pattern is None and self.contains is None:
            raise ValueError("give 'pattern' (a glob on names), 'contains' (a regex on contents), or both")
        return self


class InfoArgs(_Args):
    """size, type, times and permissions of a file or directory (links are described, not followed)"""

    operation: Literal["info"]
    root: RootName | None = None
    path: ReadPath = "."


# --- files_write --------------------------------------------------------------------------

DryRun = Annotated[bool, Field(description="Check everything and report what would change, changing nothing.")]
Parents = Annotated[bool, Field(description="Create missing parent directories.")]


class WriteArgs(_Args):
    """create or replace a whole file, atomically"""

    operation: Literal["write"]
    root: RootName | None = None
    path: WritePath
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)] = Field(
        description="The complete new text of the file."
    )
    encoding: Encoding = Field(default="utf-8", description="Encoding to write ('utf-8-sig' adds a BOM).")
    create_only: bool = Field(default=False, description="Fail with CONFLICT if the file already exists.")
    parents: Parents = False
    dry_run: DryRun = False

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str) -> str | None:
        return _known_encoding(value)


class EditSpec(_Args):
    old: Annotated[str, StringConstraints(min_length=1, max_length=MAX_EDIT_CHARS)] = Field(
        description="Exact current text to replace; must occur exactly once unless replace_all."
    )
    new: Annotated[str, StringConstraints(max_length=MAX_EDIT_CHARS)] = Field(description="Replacement text.")
    replace_all: bool = Field(default=False, description="Replace every occurrence of old.")


class EditArgs(_Args):
    """replace exact text in a file (all edits or none); dry_run returns the diff"""

    operation: Literal["edit"]
    root: RootName | None = None
    path: WritePath
    edits: Annotated[list[EditSpec], Field(min_length=1, max_length=MAX_EDITS)] = Field(
        description="Replacements {old, new}, applied in order."
    )
    dry_run: DryRun = False


class MkdirArgs(_Args):
    """create a directory"""

    operation: Literal["mkdir"]
    root: RootName | None = None
    path: WritePath
    parents: Parents = False
    dry_run: DryRun = False


class MoveArgs(_Args):
    """move or rename a file or directory, within a root or to another root"""

    operation: Literal["move"]
    root: RootName | None = None
    path: WritePath
    destination: WritePath = Field(description="The new path (not a directory to move into).")
    destination_root: RootName | None = Field(default=None, description="Root of destination; default: root.")
    overwrite: bool = Field(default=False, description="Replace an existing destination (a directory only if empty).")
    dry_run: DryRun = False


class DeleteArgs(_Args):
    """delete a file, a link, or an empty directory (any directory with recursive: true)"""

    operation: Literal["delete"]
    root: RootName | None = None
    path: WritePath
    recursive: bool = Field(default=False, description="Delete a directory with everything in it.")
    dry_run: DryRun = False
