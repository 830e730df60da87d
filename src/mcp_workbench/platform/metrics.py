"""Prometheus metrics, one registry per server (so tests and embedded servers don't mix).

Tool traffic is recorded by the call middleware; capabilities contribute gauges at scrape
time through ``samples()`` (database pool usage, cache hits and misses), so nothing is
polled between scrapes.
"""

from __future__ import annotations

import platform as _platform
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True)
class Sample:
    """One value a capability reports at scrape time."""

    name: str  # without the workbench_ prefix
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    kind: str = "gauge"  # or "counter" (monotonic totals)


class _SampleCollector(Collector):
    def __init__(self, sources: Callable[[], Iterable[Sample]]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for sample in self._sources():
            name = f"workbench_{sample.name}"
            family = families.get(name)
            if family is None:
                cls = CounterMetricFamily if sample.kind == "counter" else GaugeMetricFamily
                family = cls(name, sample.help, labels=sorted(sample.labels))
                families[name] = family
            family.add_metric([sample.labels[k] for k in sorted(sample.labels)], sample.value)
        yield from families.values()


class Metrics:
    """The server's metrics; ``render()`` is the /metrics body."""

    def __init__(self, version: str, fastmcp_version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.tool_calls = Counter(
            "workbench_tool_calls_total",
            "Tool calls by tool, operation and outcome (ok or an error code).",
            ["tool", "operation", "outcome"],
            registry=self.registry,
        )
        self.tool_latency = Histogram(
            "workbench_tool_call_duration_seconds",
            "Tool call latency.",
            ["tool"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("workbench_tool_calls_in_flight", "Tool calls running now.", registry=self.registry)
        self.rate_limited = Counter(
            "workbench_rate_limited_total", "Calls refused by a rate limit.", ["tool"], registry=self.registry
        )
        self.auth_failures = Counter(
            "workbench_auth_failures_total", "Rejected credentials.", ["reason"], registry=self.registry
        )
        build = Gauge(
            "workbench_build_info",
            "Build information (always 1).",
            ["version", "fastmcp", "python"],
            registry=self.registry,
        )
        build.labels(version, fastmcp_version, _platform.python_version()).set(1)
        self._sources: list[Callable[[], Iterable[Sample]]] = []
        self.registry.register(_SampleCollector(self._collect_sources))

    def add_source(self, source: Callable[[], Iterable[Sample]]) -> None:
        self._sources.append(source)

    def _collect_sources(self) -> Iterator[Sample]:
        for source in self._sources:
            yield from source()

    def observe_call(self, tool: str, operation: str | None, outcome: str, seconds: float) -> None:
        self.tool_calls.labels(tool, operation or "", outcome).inc()
        self.tool_latency.labels(tool).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
