"""What ``analyze`` accepts as context: the five kinds validated, the kinds this server can gather,
and the size caps, with what they cut said."""

from __future__ import annotations

import pytest

from tests.analysis.example import TASK
from tests.support.session import Session

pytestmark = pytest.mark.anyio

ITEMS = {
    "sql": {"kind": "sql", "source": "workspace", "sql": "SELECT 1", "params": [1, "a", None, True, 2.5]},
    "table": {"kind": "table", "source": "workspace", "table": "orders"},
    "file": {"kind": "file", "root": "proj", "path": "notes.md"},
    "url": {"kind": "url", "url": "https://example.org/report"},
}


@pytest.mark.parametrize("kind", sorted(ITEMS))
async def test_a_kind_without_a_gatherer_is_refused_before_anything_is_gathered(
    connect, analysis_settings, kind: str
) -> None:
    context = [{"kind": "text", "text": "Some text."}, ITEMS[kind]]
    async with connect(analysis_settings()) as session:  # the analysis group alone: no data, files or web
        error = await session.error("analyze", "VALIDATION_ERROR", task=TASK, context=context)
    assert error["error"] == f"context kind '{kind}' is unavailable on this server"
    assert error["details"] == {"field": "context", "unavailable": [kind], "available": ["text"]}
    assert any("kind 'text'" in step for step in error["recovery_steps"])


async def test_score_mode_refuses_an_unavailable_kind_too(connect, analysis_settings) -> None:
    async with connect(analysis_settings()) as session:
        error = await session.error(
            "analyze", "VALIDATION_ERROR", task=TASK, context=[ITEMS["url"]], mode="score", draft="A draft."
        )
    assert error["details"]["unavailable"] == ["url"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"context": [{"kind": "text", "text": "x"}] * 21}, "context"),
        ({"context": [{"kind": "text", "text": "x" * 200_001}]}, "context.0.text.text"),
        ({"context": [{"kind": "sql", "sql": "SELECT 1", "params": list(range(101))}]}, "context.0.sql.params"),
        ({"context": [{"kind": "pdf", "path": "a.pdf"}]}, "context.0"),
        ({"context": [{"kind": "url", "url": "https://a.example", "depth": 2}]}, "context.0.url.depth"),
        ({"context": [{"kind": "table", "source": "no such!", "table": "t"}]}, "context.0.table.source"),
        ({"task": "x" * 8001}, "task"),
        ({"criteria": ["c"] * 11}, "criteria"),
        ({"max_iterations": 9}, "max_iterations"),
        ({"candidates": 5}, "candidates"),
        ({"quality_threshold": 1.5}, "quality_threshold"),
        ({"mode": "score"}, "(arguments)"),
        ({"draft": "a draft"}, "(arguments)"),
    ],
)
async def test_out_of_bounds_arguments_are_refused_naming_the_field(
    session: Session, arguments: dict, field: str
) -> None:
    error = await session.error("analyze", "VALIDATION_ERROR", **{"task": TASK, **arguments})
    assert field in [p["field"] for p in error["details"]["problems"]], error


async def test_an_item_over_its_cap_is_cut_and_the_cut_is_said(connect, analysis_settings) -> None:
    long = "\n".join(f"Line {n}: the shop sold {n} units on day {n}." for n in range(1, 200))
    async with connect(analysis_settings(item_chars=1000, total_chars=5000)) as session:
        answer = await session.call("analyze", task=TASK, context=[{"kind": "text", "text": long, "title": "log"}])
    out = answer.data
    [cut] = out["context_cut"]
    assert cut.startswith("[1] text: log: text after character ") and cut.endswith(
        f" of {len(long):,} (the per-item cap)"
    )
    assert "Line 1:" in out["brief"]["prompt"] and "Line 199:" not in out["brief"]["prompt"]
    assert f"Context cut: {cut}" in answer.text


async def test_items_past_the_total_cap_are_cut_then_left_out(connect, analysis_settings) -> None:
    items = [{"kind": "text", "text": f"Item {n}. " + "word " * 190, "title": f"t{n}"} for n in range(1, 6)]
    async with connect(analysis_settings(item_chars=1000, total_chars=1500)) as session:
        out = await session.ok("analyze", task=TASK, context=items)
    assert out["context_cut"] == [
        "[2] text: t2: cut at the context's total cap of 1,500 characters",
        "[3] text: t3: left out, the context reached its total cap of 1,500 characters",
        "[4] text: t4: left out, the context reached its total cap of 1,500 characters",
        "[5] text: t5: left out, the context reached its total cap of 1,500 characters",
    ]
    prompt = out["brief"]["prompt"]
    assert "## [1] text: t1" in prompt and "## [2] text: t2" in prompt and "## [3]" not in prompt
