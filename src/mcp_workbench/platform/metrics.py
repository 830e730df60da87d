"""Prometheus metrics, one registry per server (so tests and embedded servers don't mix).

Tool traffic is recorded by the call middleware on every call, so it is kept as plain
numbers (:class:`CallStats`) and turned into Prometheus families only when /metrics is
scraped: prometheus_client's own counters take a lock and validate labels on each update.
Capabilities contribute gauges at scrape time through ``samples()`` (database pool usage,
cache hits and misses), so nothing is polled between scrapes.
"""

from __future__ import annotations

import platform as _platform
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
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
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for sample in self._sources():
            name = f"workbench_{sample.name}"
            family = families.get(name)
            if family is None:
                cls = CounterMetricFamily if sample.kind == "counter" else GaugeMetricFamily
                family = cls(name, sample.help, labels=sorted(sample.labels))
                families[name] = family
            family.add_metric([sample.labels[k] for k in sorted(sample.labels)], sample.value)
        yield from families.values()


class CallStats(Collector):
    """Tool calls by tool, operation and outcome; latency histograms by tool; calls in flight;
    resource reads, prompt gets and completions by kind, component and outcome.

    Updated from the event loop only (one per process), so plain ints need no lock. Every
    label value comes from the server's own catalog or a closed set (the call layer maps
    anything else to ``other``), so the number of series is bounded by the catalog.
    """

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self._bounds = buckets
        self.in_flight = 0
        self._calls: dict[tuple[str, str, str], int] = {}
        self._latency: dict[str, list[float]] = {}  # per tool: a count per bucket (+Inf last), then the sum
        self._requests: dict[tuple[str, str, str], int] = {}

    def observe(self, tool: str, operation: str, outcome: str, seconds: float) -> None:
        key = (tool, operation, outcome)
        self._calls[key] = self._calls.get(key, 0) + 1
        counts = self._latency.get(tool)
        if counts is None:
            counts = self._latency[tool] = [0.0] * (len(self._bounds) + 2)
        counts[bisect_left(self._bounds, seconds)] += 1
        counts[-1] += seconds

    def observe_request(self, kind: str, name: str, outcome: str) -> None:
        key = (kind, name, outcome)
        self._requests[key] = self._requests.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "workbench_tool_calls",
            "Tool calls by tool, operation and outcome (ok or an error code).",
            labels=["tool", "operation", "outcome"],
        )
        for labels, count in sorted(self._calls.items()):
            calls.add_metric(list(labels), count)
        yield calls
        latency = HistogramMetricFamily("workbench_tool_call_duration_seconds", "Tool call latency.", labels=["tool"])
        for tool, counts in sorted(self._latency.items()):
            cumulative, buckets = 0.0, []
            for bound, hits in zip((*self._bounds, float("inf")), counts, strict=False):
                cumulative += hits
                buckets.append((_le(bound), cumulative))
            latency.add_metric([tool], buckets, counts[-1])
        yield latency
        yield GaugeMetricFamily("workbench_tool_calls_in_flight", "Tool calls running now.", value=self.in_flight)
        requests = CounterMetricFamily(
            "workbench_requests",
            "Resource reads, prompt gets and completions by kind, component and outcome (ok or an error code).",
            labels=["kind", "name", "outcome"],
        )
        for labels, count in sorted(self._requests.items()):
            requests.add_metric(list(labels), count)
        yield requests


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class Metrics:
    """The server's metrics; ``render()`` is the /metrics body."""

    def __init__(self, version: str, fastmcp_version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = CallStats()
        self.registry.register(self.calls)
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

    def observe_call(self, tool: str, operation: str, outcome: str, seconds: float) -> None:
        """One tool call; ``tool`` and ``operation`` are catalog labels (see platform/catalog.py)."""
        self.calls.observe(tool, operation, outcome, seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
