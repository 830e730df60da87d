"""The alert rules: promtool accepts them, every alert has a promtool unit test in which it
fires, and every alert says what to do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.support.tools import require

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "workbench-rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "workbench-rules.test.yml"


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def alerts() -> dict[str, dict]:
    return {rule["alert"]: rule for group in load(RULES)["groups"] for rule in group["rules"] if "alert" in rule}


@pytest.fixture
def promtool() -> Path:
    return require("promtool", debian_package="prometheus")


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*map(str, argv)], capture_output=True, text=True, timeout=120, check=False)


def test_promtool_accepts_the_rules(promtool: Path) -> None:
    done = run(promtool, "check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 16 rules found" in done.stdout


def test_the_promtool_unit_tests_pass(promtool: Path) -> None:
    done = run(promtool, "test", "rules", RULE_TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_unit_test_in_which_it_fires() -> None:
    firing = {
        case["alertname"]
        for test in load(RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert sorted(firing) == sorted(alerts())


def test_every_alert_has_a_severity_and_says_what_to_do() -> None:
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and len(rule["annotations"]["description"]) > 60, name


def test_the_example_scrape_configuration_loads_the_rules(promtool: Path, tmp_path: Path) -> None:
    """prometheus.example.yml as Prometheus reads it, with its files where it expects them."""
    text = (DEPLOY / "prometheus" / "prometheus.example.yml").read_text(encoding="utf-8")
    token = tmp_path / "token"
    token.write_text("secret", encoding="utf-8")
    (tmp_path / "workbench-rules.yml").write_text(RULES.read_text(encoding="utf-8"), encoding="utf-8")
    text = text.replace("/etc/prometheus/workbench-rules.yml", str(tmp_path / "workbench-rules.yml"))
    text = text.replace("/etc/prometheus/workbench-metrics-token", str(token))
    config = tmp_path / "prometheus.yml"
    config.write_text(text, encoding="utf-8")
    done = run(promtool, "check", "config", config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "job_name: mcp-workbench" in text  # the job WorkbenchTargetDown watches
