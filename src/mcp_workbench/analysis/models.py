"""Arguments of ``analyze``: every field bounded, unknown fields refused.

A context item is one of five kinds, told apart by ``kind``. All five are validated here; which
kinds a server can gather is decided by the gatherers it has (see :mod:`.context`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_TASK_CHARS = 8000
MAX_CONTEXT_ITEMS = 20
MAX_TEXT_ITEM_CHARS = 200_000
MAX_SQL_CHARS = 20_000
MAX_CRITERIA = 10
MAX_CRITERION_CHARS = 500
MAX_DRAFT_CHARS = 100_000
NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"

Scalar = Annotated[str, Field(max_length=10_000)] | int | float | bool | None


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SqlItem(_Item):
    """The result of one read-only SQL statement."""

    kind: Literal["sql"]
    source: str = Field(default="workspace", pattern=NAME, description="sql, table: the data source.")
    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS, description="sql: one read-only statement.")
    params: list[Scalar] = Field(
        default_factory=list, max_length=100, description="sql: values bound to its ? placeholders."
    )


class TableItem(_Item):
    """The rows of one table."""

    kind: Literal["table"]
    source: str = Field(default="workspace", pattern=NAME, description="sql, table: the data source.")
    table: str = Field(min_length=1, max_length=255, description="table: the table's name.")


class FileItem(_Item):
    """The text of one file under a configured root."""

    kind: Literal["file"]
    root: str = Field(min_length=1, max_length=64, description="file: the root's name.")
    path: str = Field(min_length=1, max_length=4096, description="file: the path inside the root.")


class UrlItem(_Item):
    """The main content of one web page."""

    kind: Literal["url"]
    url: str = Field(min_length=1, max_length=8192, description="url: an http(s) URL.")


class TextItem(_Item):
    """Text given in the call."""

    kind: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT_ITEM_CHARS, description="text: the text itself.")
    title: str | None = Field(default=None, max_length=200, description="text: a name for it (optional).")


ContextItem = Annotated[SqlItem | TableItem | FileItem | UrlItem | TextItem, Field(discriminator="kind")]
ITEM_MODELS: tuple[type[_Item], ...] = (SqlItem, TableItem, FileItem, UrlItem, TextItem)


class AnalyzeArgs(BaseModel):
    """Analyse a task over context, iterating with a model when one is available."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(min_length=1, max_length=MAX_TASK_CHARS, description="What to analyse or answer.")
    context: list[ContextItem] = Field(
        default_factory=list,
        max_length=MAX_CONTEXT_ITEMS,
        description="What the analysis may rely on, each item one of: {kind: 'sql', source, sql, params}, "
        "{kind: 'table', source, table}, {kind: 'file', root, path}, {kind: 'url', url}, {kind: 'text', text}. "
        "Each item and the whole are cut at size caps; the answer says what was cut.",
    )
    criteria: list[Annotated[str, Field(min_length=1, max_length=MAX_CRITERION_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_CRITERIA,
        description="The rubric the analysis is judged on; a general rubric (answers the task, supported by "
        "the context, clear, states its limits) when absent.",
    )
    max_iterations: int = Field(default=3, ge=1, le=8, description="Most rounds of candidates to try.")
    quality_threshold: float = Field(
        default=0.8, ge=0, le=1, description="Stop as soon as the best candidate scores this much (0-1)."
    )
    candidates: int = Field(default=2, ge=1, le=4, description="Candidates asked for per iteration.")
    mode: Literal["auto", "brief", "score"] = Field(
        default="auto",
        description="auto: use a model when one is available, else return a brief to write from; "
        "brief: never a model; score: check and score your own draft.",
    )
    draft: str | None = Field(
        default=None, min_length=1, max_length=MAX_DRAFT_CHARS, description="score: the text to score."
    )

    @model_validator(mode="after")
    def _draft_only_to_score(self) -> AnalyzeArgs:
        if self.mode == "score" and self.draft is None:
            raise ValueError("mode 'score' needs the draft to score")
        if self.mode != "score" and self.draft is not None:
            raise ValueError("draft is only read in mode 'score'")
        return self
