"""The results as Markdown tables: absolute figures and ratios against baselines of the same run."""

from __future__ import annotations

import math
from typing import Any


def _f(value: float | None, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "–"
    return f"{value / base:.2f}×"


def render(results: dict[str, Any], labels: dict[str, str]) -> str:
    meta = results["meta"]
    m = meta["machine"]
    lines = [
        f"# mcp-workbench benchmark — {meta['started']}{' (quick)' if meta['quick'] else ''}",
        "",
        (
            f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gb']} GB, Linux {m['kernel']}; Python {m['python']}, "
            f"FastMCP {m['fastmcp']}, mcp {m['mcp']}, uvicorn {m['uvicorn']}; mcp-workbench {m['mcp-workbench']} "
            f"at {m['commit']}."
        ),
        (
            f"Peers: {', '.join(f'{k} {v}' for k, v in meta['peers'].items())}. "
            f"Search floor: {meta['search_floor'].get('version') or meta['search_floor'].get('kind')}."
        ),
        *_baseline(meta),
        f"Load before: {meta['busy_before']:.0%} of the CPUs busy with other work; load averages "
        + ", ".join(f"{x['at']} {x['load1']:.2f}" for x in meta["load"])
        + f"; busy after: {meta.get('busy_after', 0):.0%}. Duration {meta.get('duration_s', '?')} s.",
        "",
    ]
    lines += _targets(results.get("targets") or [])
    if "cold_start" in results:
        lines += _cold(results["cold_start"], labels, meta["plan"]["cold_runs"])
    if "stdio" in results:
        lines += _stdio(results["stdio"], labels)
    if "memory" in results or "http" in results:
        lines += _memory(results.get("memory") or {}, (results.get("http") or {}).get("memory") or {}, labels)
    if "http" in results:
        lines += _http(results["http"], meta["plan"])
    if "backup" in results:
        from bench.backup import report as backup_report

        lines += [backup_report(results["backup"])]
    if "read_memory" in results:
        from bench.memory import report as read_memory_report

        lines += [read_memory_report(results["read_memory"]), ""]
    if "research" in results:
        from bench.research import render as research_report

        lines += [research_report(results["research"]), ""]
    if "analyze" in results:
        from bench.analyze import report as analyze_report

        lines += [analyze_report(results["analyze"]), ""]
    if results.get("notes"):
        lines += ["## Notes from the run", ""] + [f"- {n}" for n in results["notes"]] + [""]
    return "\n".join(lines)


def _baseline(meta: dict[str, Any]) -> list[str]:
    base = meta.get("baseline")
    if not base:
        return []
    line = (
        f"Baseline: {base['python']} (FastMCP {base['fastmcp']}, mcp {base['mcp']}, mcp-workbench at "
        f"{base['commit']}), run interleaved with the subjects it shadows."
    )
    return [line]


def _targets(targets: list[dict[str, Any]]) -> list[str]:
    if not targets:
        return []
    out = ["## Targets", "", "| target | measured | limit | met | margin | detail |", "|---|---:|---:|:--:|---:|---|"]
    for t in targets:
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        margin = "–" if t.get("margin") is None else f"{t['margin']:+.0%}"
        out.append(
            f"| {t['target']} | {_f(t['ratio'], 2)}× | {t.get('direction', '')} {t['limit']}× | {met} | {margin} "
            f"| {t['detail']} |"
        )
    return [*out, "", "Margin: how far inside (+) or outside (−) the limit the measurement is.", ""]


def _cold(cold: dict[str, Any], labels: dict[str, str], runs: int) -> list[str]:
    base = cold.get("fastmcp", {}).get("median_ms")
    raw = cold.get("raw", {}).get("median_ms")
    out = [
        f"## Cold start (spawn → tools/list answered, stdio, median of {runs})",
        "",
        (
            "Runs are interleaved (every server once, then again); “paired ×” is the median over runs of "
            "this server's time divided by bare FastMCP's in the same run."
        ),
        "",
        "| server | median ms | × bare FastMCP | paired × | × raw Python | runs (ms) | tools | RSS then (MB) |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, c in cold.items():
        out.append(
            f"| {labels.get(name, name)} | {_f(c['median_ms'], 0)} | {_ratio(c['median_ms'], base)} "
            f"| {_f(c.get('paired_ratio_to_fastmcp'), 2)}× | {_ratio(c['median_ms'], raw)} "
            f"| {' '.join(str(round(r)) for r in c['runs_ms'])} | {c['tools']} "
            f"| {_f(c['rss_at_tools_list_mb'], 0)} |"
        )
    return [*out, ""]


def _stdio(stdio: dict[str, Any], labels: dict[str, str]) -> list[str]:
    out = ["## Calls over stdio (one client, one call at a time)", ""]
    out.append(
        "Latency is measured by the client from writing the request to reading the answer; server CPU is "
        "utime+stime of the server's process tree from /proc over the timed calls, divided by their number. "
        "“× ours” divides by mcp-workbench's figure (above 1: workbench is faster or cheaper)."
    )
    out.append("")
    for key, entry in stdio.items():
        subjects = entry["subjects"]
        ours = subjects.get(entry["ours"], {})
        ours_p50 = ours.get("latency_ms", {}).get("p50")
        ours_cpu = ours.get("cpu_ms_per_call")
        base_key = "fastmcp" if key == "trivial" else None
        out += [
            f"### {key}: {entry['title']}",
            "",
            "| subject | n | p50 ms | p95 ms | p99 ms | CPU ms/call | p50 × ours | CPU × ours | answer KB | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, s in subjects.items():
            lat = s["latency_ms"]
            label = labels.get(name, name) + (f" ({s['note']})" if s.get("note") else "")
            errors = str(s["errors"]) + (f": {s['first_error'][:80]}" if s["errors"] else "")
            digits = 3 if key == "trivial" else 1
            out.append(
                f"| {label} | {lat.get('n', 0)} | {_f(lat.get('p50'), 2)} | {_f(lat.get('p95'), 2)} "
                f"| {_f(lat.get('p99'), 2)} | {_f(s['cpu_ms_per_call'], digits)} | {_ratio(lat.get('p50'), ours_p50)} "
                f"| {_ratio(s['cpu_ms_per_call'], ours_cpu)} | {_f(s.get('answer_kb'), 1)} | {errors} |"
            )
        layers = [(n, s) for n, s in subjects.items() if n.startswith("wb-") and s.get("cpu_ms_per_call")]
        if layers and ours_cpu:
            out += [
                "",
                (
                    "What each part of the production layer costs: the median over rounds of the full server's CPU "
                    "per call minus the variant's in the same round:"
                ),
                "",
                "| removed | CPU ms/call | saves ms/call | share of the call |",
                "|---|---:|---:|---:|",
            ]
            ours_blocks = ours.get("block_cpu_ms") or []
            for name, s in layers:
                diffs = sorted(a - b for a, b in zip(ours_blocks, s.get("block_cpu_ms") or [], strict=False))
                saved = diffs[len(diffs) // 2] if diffs else ours_cpu - s["cpu_ms_per_call"]
                out.append(
                    f"| {labels.get(name, name)} | {_f(s['cpu_ms_per_call'], 3)} | {_f(saved, 3)} "
                    f"| {saved / ours_cpu:.0%} |"
                )
        if base_key and base_key in subjects and ours_cpu:
            base = subjects[base_key]
            out.append("")
            out.append(
                f"mcp-workbench vs bare FastMCP: CPU/call {_ratio(ours_cpu, base['cpu_ms_per_call'])}, "
                f"p50 {_ratio(ours_p50, base['latency_ms'].get('p50'))}; per-block CPU ms/call: "
                + "; ".join(f"{n} {s['block_cpu_ms']}" for n, s in subjects.items())
            )
        out.append("")
    return out


def _memory(stdio_mem: dict[str, Any], http_mem: dict[str, Any], labels: dict[str, str]) -> list[str]:
    out = [
        "## Memory",
        "",
        (
            "RSS of the server process; the tree columns add its helper processes (the workbench's search workers, "
            "uvicorn's workers); PSS splits shared pages fairly between them."
        ),
        "",
        "| server | idle RSS MB | idle tree PSS MB | after load RSS MB | after load tree RSS / PSS MB | processes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base = stdio_mem.get("fastmcp", {}).get("idle", {}).get("rss_mb")
    for group, memory in (("stdio", stdio_mem), ("HTTP", http_mem)):
        for name, m in memory.items():
            if name.startswith("wb-"):
                continue
            idle, after = m["idle"], m.get("after") or {}
            ratio = f" ({_ratio(idle['rss_mb'], base)} bare FastMCP)" if group == "stdio" and base else ""
            out.append(
                f"| {group}: {labels.get(name, name)} | {_f(idle['rss_mb'], 0)}{ratio} | {_f(idle['tree_pss_mb'], 0)} "
                f"| {_f(after.get('rss_mb'), 0)} "
                f"| {_f(after.get('tree_rss_mb'), 0)} / {_f(after.get('tree_pss_mb'), 0)} "
                f"| {after.get('processes', idle['processes'])} |"
            )
    return [*out, ""]


def _http(http: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    configs = http["configs"]
    out = [
        (
            f"## HTTP (streamable HTTP, JSON replies; {plan['http_seconds']:g} s per point, median of "
            f"{plan['http_reps']} rep(s))"
        ),
        "",
        (
            "Each client: one keep-alive connection; handshake era = initialize once, then tools/call back to back. "
            "Server CPU/call from /proc (all worker processes); server CPU share = the server's CPU as a share of "
            "the whole machine (100% = both cores); busiest process = the share of the server's CPU spent in its "
            "busiest process (50% = two workers evenly loaded); client share = the load generator's CPU as a share "
            "of the machine (it runs on the same 2 cores)."
        ),
        "",
        (
            "| set-up | clients | calls/s | × bare FastMCP 1 proc | p50 ms | p95 ms | p99 ms | server CPU ms/call "
            "| server CPU share | busiest process | client CPU share | errors |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in configs.values():
        for level, point in c["levels"].items():
            base = configs.get("fastmcp-1", {}).get("levels", {}).get(level, {}).get("calls_per_s")
            lat = point["latency_ms"]
            out.append(
                f"| {c['label']} | {level} | {_f(point['calls_per_s'], 0)} | {_ratio(point['calls_per_s'], base)} "
                f"| {_f(lat.get('p50'), 2)} | {_f(lat.get('p95'), 2)} | {_f(lat.get('p99'), 2)} "
                f"| {_f(point['server_cpu_ms_per_call'], 3)} | {point['server_cpu_share']:.0%} "
                f"| {point.get('busiest_process_share', 1.0):.0%} "
                f"| {point['client_cpu_share']:.0%} | {point['errors']} |"
            )
    out += ["", "Scaling from one process to two workers (calls/s ratio, same run):", ""]
    out += ["| pair | x1 | x10 | x50 |", "|---|---:|---:|---:|"]
    pairs = [
        ("workbench-2", "workbench-1-stateless"),
        ("workbench-2", "workbench-1"),
        ("fastmcp-2", "fastmcp-1-stateless"),
        ("fastmcp-2", "fastmcp-1"),
        ("fastmcp-2-nodelay", "fastmcp-1-stateless"),
        ("fastmcp-2-nodelay", "fastmcp-1"),
        ("fastmcp-2-reuseport", "fastmcp-1-stateless"),
    ]
    for two, one in pairs:
        if two in configs and one in configs:
            cells = [
                _ratio(configs[two]["levels"][lv]["calls_per_s"], configs[one]["levels"][lv]["calls_per_s"])
                for lv in configs[two]["levels"]
            ]
            out.append(f"| {two} ÷ {one} | " + " | ".join(cells) + " |")
    return [*out, ""]
