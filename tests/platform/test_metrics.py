"""Tool-call metrics are plain numbers until a scrape turns them into Prometheus text."""

from __future__ import annotations

from mcp_workbench.platform.metrics import Metrics


def test_the_latency_histogram_counts_each_call_in_its_bucket() -> None:
    metrics = Metrics("1.0", "4.1")
    for seconds in (0.0005, 0.001, 0.003, 120):
        metrics.observe_call("data_read", "tables", "ok", seconds)
    text = metrics.render().decode()
    assert 'workbench_tool_call_duration_seconds_bucket{le="0.001",tool="data_read"} 2.0' in text  # le is inclusive
    assert 'workbench_tool_call_duration_seconds_bucket{le="0.005",tool="data_read"} 3.0' in text
    assert 'workbench_tool_call_duration_seconds_bucket{le="60.0",tool="data_read"} 3.0' in text
    assert 'workbench_tool_call_duration_seconds_bucket{le="+Inf",tool="data_read"} 4.0' in text
    assert 'workbench_tool_call_duration_seconds_count{tool="data_read"} 4.0' in text
    assert 'workbench_tool_calls_total{operation="tables",outcome="ok",tool="data_read"} 4.0' in text
