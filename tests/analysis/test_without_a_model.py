"""``analyze`` where no model is available (most hosts): the brief, and score mode closing the loop."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client, FastMCP

from mcp_workbench.analysis.context import Gathered
from mcp_workbench.analysis.models import ContextItem, TableItem
from mcp_workbench.analysis.server import AnalysisCapability, register_analysis
from mcp_workbench.platform.identity import Caller
from tests.analysis.example import CONTEXT, REPORT, TASK
from tests.support.session import Session

pytestmark = pytest.mark.anyio

HONEST = (
    "March was the best month: the shop sold 120 units, up from 95 in February, and returns stayed low at 4 "
    'units. The manager wrote: "March was our best month since the opening." The report covers two months only, '
    "so a trend cannot be claimed."
)


async def test_a_client_without_sampling_gets_a_brief_and_the_way_to_score(connect, analysis_settings) -> None:
    async with connect(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert (out["route"], out["stop_reason"], out["result"], out["iterations_used"]) == ("none", "no_model", None, 0)
    brief = out["brief"]
    assert brief["task"] == TASK and len(brief["criteria"]) == 4 and brief["scale"][0] == "1 = absent or wrong"
    assert TASK in brief["prompt"] and REPORT in brief["prompt"] and "20-2000 words" in brief["prompt"]
    [item] = brief["context"]
    assert (item["kind"], item["label"]) == ("text", "text: report")
    assert item["profile"]["words"] == len(REPORT.split())
    assert "In March the shop sold 120 units, up from 95 in February." in item["profile"]["key_passages"]
    assert "mode 'score'" in out["next_step"] and "No model is available" in out["next_step"]


async def test_mode_brief_never_asks_the_clients_model(era, sampling, analysis_settings, model) -> None:
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, mode="brief")
    assert out["stop_reason"] == "no_model" and "You asked for a brief" in out["next_step"]
    assert model.requests == []


async def test_score_mode_passes_an_honest_draft(session: Session) -> None:
    out = await session.ok("analyze", task=TASK, context=CONTEXT, mode="score", draft=HONEST)
    assert (out["stop_reason"], out["route"], out["quality_score"], out["threshold_met"]) == ("scored", "none", 1, True)
    assert [c["name"] for c in out["checks"]] == ["figures", "quotes", "length"]
    assert (
        out["checks"][0]["detail"] == "all 2 figures match values computed from the context"
    )  # 4 is too small to check
    assert "passes every check" in out["next_step"]


async def test_score_mode_says_what_to_fix(session: Session) -> None:
    draft = (
        'Sales doubled to 240 units in March, a 150% rise. The manager wrote: "Best quarter ever for the shop." '
        "Regional sales are not covered."
    )
    criteria = ["Compare March with February", "Mention the returns"]
    out = await session.ok("analyze", task=TASK, context=CONTEXT, criteria=criteria, mode="score", draft=draft)
    checks = {c["name"]: c for c in out["checks"]}
    assert not checks["figures"]["passed"] and "240, 150%" in checks["figures"]["detail"]
    assert not checks["quotes"]["passed"] and '"Best quarter ever for the shop."' in checks["quotes"]["detail"]
    assert not checks["criteria"]["passed"] and "Compare March with February" in checks["criteria"]["detail"]
    assert checks["length"]["passed"]
    assert out["quality_score"] == 0.25 and not out["threshold_met"]
    assert out["scores"] == {"Compare March with February": 0.5, "Mention the returns": 0.0}
    assert out["next_step"].startswith("Fix these and call analyze again with mode 'score'")
    assert "(1) figures:" in out["next_step"] and "(3) criteria:" in out["next_step"]


async def test_score_mode_bounds_the_length(session: Session) -> None:
    out = await session.ok("analyze", task=TASK, context=CONTEXT, mode="score", draft="Sold 120 units.")
    assert {c["name"]: c["detail"] for c in out["checks"]}["length"] == "3 words; at least 20 are expected"


# --- tabular context through the gatherer seam --------------------------------------------------------


class SqliteTables:
    """Gathers ``table`` items from a real SQLite file: the seam the data capability's gatherer fills."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.callers: list[Caller] = []

    async def gather(self, item: ContextItem, caller: Caller) -> Gathered:
        assert isinstance(item, TableItem)
        self.callers.append(caller)
        with sqlite3.connect(self.path) as db:
            cursor = db.execute(f'SELECT * FROM "{item.table}" ORDER BY id')
            columns = [d[0] for d in cursor.description]
            return Gathered(label="", columns=columns, rows=[list(r) for r in cursor.fetchall()])


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, region TEXT, amount REAL, day TEXT, note TEXT)")
        regions = ["EU"] * 10 + ["US"] * 6 + ["APAC"] * 4
        for n, region in enumerate(regions, start=1):
            amount = 5000.0 if n == 20 else 10.0 * n
            note = None if n % 5 == 0 else f"order {n}"
            db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", (n, region, amount, f"2026-03-{n:02d}", note))
    return path


async def _analyze(era: str, settings: Any, gatherer: SqliteTables, **arguments: Any) -> dict[str, Any]:
    mcp = FastMCP("analysis-test")
    register_analysis(
        mcp, AnalysisCapability(settings.analysis, max_state_bytes=262_144, gatherers={"table": gatherer})
    )
    async with Client(mcp, mode=era) as client:
        return await Session(client).ok("analyze", **arguments)


async def test_tabular_context_is_profiled_for_the_brief(era, analysis_settings, orders: Path) -> None:
    gatherer = SqliteTables(orders)
    context = [{"kind": "table", "table": "orders"}]
    out = await _analyze(era, analysis_settings(), gatherer, task="Which region sells most?", context=context)
    [item] = out["brief"]["context"]
    assert (item["kind"], item["label"]) == ("rows", "table orders of workspace")
    profile = item["profile"]
    assert profile["row_count"] == 20
    columns = {c["name"]: c for c in profile["columns"]}
    assert {name: c["type"] for name, c in columns.items()} == {
        "id": "integer", "region": "text", "amount": "number", "day": "date", "note": "text",
    }  # fmt: skip
    assert (columns["note"]["nulls"], columns["note"]["distinct"]) == (4, 16)
    assert columns["region"]["top"] == [
        {"value": "EU", "count": 10, "share": 0.5},
        {"value": "US", "count": 6, "share": 0.3},
        {"value": "APAC", "count": 4, "share": 0.2},
    ]
    amount = columns["amount"]
    assert (amount["min"], amount["max"], amount["mean"], amount["sum"]) == (10.0, 5000.0, 345.0, 6900.0)
    assert amount["quantiles"] == {"p25": 57.5, "p50": 105.0, "p75": 152.5}
    assert amount["outliers"]["count"] == 1 and amount["outliers"]["examples"] == [5000.0]
    assert (columns["day"]["min"], columns["day"]["max"]) == ("2026-03-01", "2026-03-20")
    prompt = out["brief"]["prompt"]
    assert "- region (text): 0 nulls; 3 distinct; most frequent: EU ×10 (50%), US ×6 (30%), APAC ×4 (20%)" in prompt
    assert "1 outliers outside [-85, 295] (1.5 × IQR), e.g. 5000" not in prompt
    assert "outliers: 1 outside [-85, 295] (1.5 × IQR), e.g. 5000" in prompt
    assert "Rows (all 20):" in prompt and "| 20 | APAC | 5000 | 2026-03-20 | NULL |" in prompt


async def test_score_mode_holds_figures_to_the_computed_profile(era, analysis_settings, orders: Path) -> None:
    gatherer = SqliteTables(orders)
    context = [{"kind": "table", "table": "orders"}]
    honest = (
        "EU leads with 10 of the 20 orders (50%), ahead of US (30%) and APAC (20%). The mean order is 345, "
        "pulled up by one outlier of 5,000; the median is 105. Only one month of data is available here."
    )
    invented = honest.replace("345", "412.7")
    passed = await _analyze(era, analysis_settings(), gatherer, task="Sales by region", context=context,
                            mode="score", draft=honest)  # fmt: skip
    flagged = await _analyze(era, analysis_settings(), gatherer, task="Sales by region", context=context,
                             mode="score", draft=invented)  # fmt: skip
    assert passed["checks"][0] == {
        "name": "figures", "passed": True, "detail": "all 7 figures match values computed from the context",
    }  # fmt: skip
    assert not flagged["checks"][0]["passed"] and "412.7" in flagged["checks"][0]["detail"]
    assert {c.identity for c in gatherer.callers} == {"local"}  # gathered on the caller's behalf
