"""The Grafana dashboard queries only series a real server exports (or the rules record), and
shows every series the server exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.deploy.series import exported_series, scrape, series_in, serving_everything

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "mcp-workbench.json"
FROM_PROMETHEUS = {"up", "ALERTS"}  # series Prometheus itself makes


def queries(dashboard: dict) -> Iterator[str]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield variable["query"]["query"]
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            yield annotation["expr"]


def recorded() -> set[str]:
    groups = YAML(typ="safe").load((DEPLOY / "prometheus" / "workbench-rules.yml").read_text(encoding="utf-8"))
    return {rule["record"] for group in groups["groups"] for rule in group["rules"] if "record" in rule}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    server = serving_everything(tmp_path_factory.mktemp("dashboard")).start()
    try:
        return exported_series(scrape(server))
    finally:
        server.stop()


def test_the_expression_reader_finds_the_series_and_nothing_else() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (tool, le) (rate(workbench_tool_call_duration_seconds_bucket"
        '{job=~"$job", outcome!="ok"}[5m]))) / on (job) group_left sum(up{job="x"}) and time() - 2e3 > bool 1'
    )
    assert series_in(expr) == {"workbench_tool_call_duration_seconds_bucket", "up"}
    assert series_in('label_values(workbench_build_info{job=~"$job"}, instance)') == {"workbench_build_info"}


def test_every_dashboard_query_names_a_series_the_server_exports(exported: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    known = exported | recorded() | FROM_PROMETHEUS
    named = {expr: series_in(expr) for expr in queries(dashboard)}
    assert all(named.values()), [expr for expr, names in named.items() if not names]
    unknown = {expr: names - known for expr, names in named.items() if names - known}
    assert unknown == {}


def test_the_dashboard_shows_every_series_the_server_exports(exported: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    shown = set().union(*(series_in(expr) for expr in queries(dashboard)))
    families = {name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count") for name in exported}
    missing = {f for f in families if f.startswith("workbench_") and not any(s.startswith(f) for s in shown)}
    assert missing == set()


def test_the_rules_name_only_series_the_server_exports(exported: set[str]) -> None:
    rules = YAML(typ="safe").load((DEPLOY / "prometheus" / "workbench-rules.yml").read_text(encoding="utf-8"))
    known = exported | recorded() | FROM_PROMETHEUS
    unknown = {
        rule.get("alert") or rule["record"]: series_in(rule["expr"]) - known
        for group in rules["groups"]
        for rule in group["rules"]
        if series_in(rule["expr"]) - known
    }
    assert unknown == {}
