"""``analyze`` on the guard route: the server's time per round, without the model, and the sealed state.

    uv run python -m bench.analyze [REPS]        # prints the report (JSON with --json)
    uv run python -m bench --only analyze        # the same as a phase of the benchmark run

One in-process server (``build_server``, the full production layer, shared ``[state]`` keys) and
a 2026-07-28 client that drives the rounds itself (``allow_input_required``), answering every
completion request at once from a script: so nothing of a model's time is in the figures. For
1, 4 and 8 iterations (two candidates each, a threshold nobody reaches, no plateau), each round's
time is the server's own for that ``tools/call`` (the duration the call layer logs: middleware,
argument validation, the loop step, sealing included; the in-process transport is not), and
the state size is the sealed ``requestState`` exactly as the client receives it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import mcp_types

from bench.stats import median

ITERATIONS = (1, 4, 8)
CANDIDATE_WORDS = 400
VOCABULARY = (
    "region", "quarter", "sales", "units", "orders", "returns", "customers", "revenue", "margin", "growth",
    "decline", "warehouse", "shipment", "northern", "southern", "eastern", "western", "product", "line", "price",
    "discount", "campaign", "churn", "retention", "segment", "store", "online", "channel", "partner", "supplier",
    "delay", "cost", "forecast", "target", "budget", "inventory", "demand", "season", "holiday",
)  # fmt: skip


def _prose(rng: random.Random, words: int) -> str:
    """Text that compresses like prose (not like one sentence repeated): words and figures at random."""
    out = []
    for n in range(words):
        out.append(f"{rng.randint(2, 9_999):,}" if rng.random() < 0.08 else rng.choice(VOCABULARY))
        if n % 14 == 13:
            out[-1] += "."
    return " ".join(out)


def _context() -> list[dict[str, str]]:
    rng = random.Random(12)
    report = "\n\n".join(f"Section {n}. {_prose(rng, 160)}" for n in range(1, 21))  # about 20 KB
    notes = "\n".join(f"- note {n}: {_prose(rng, 8)}" for n in range(1, 101))
    return [{"kind": "text", "text": report, "title": "quarterly report"}, {"kind": "text", "text": notes}]


def _answer(request: mcp_types.CreateMessageRequest) -> mcp_types.CreateMessageResult:
    params = request.params
    prompt = "".join(m.content.text for m in params.messages)
    if params.temperature == 0.0:  # the judge
        letters = [letter for letter in "ABCD" if f"[Draft {letter}]" in prompt]
        marks = {str(n): 3 for n in range(1, 4)}
        text = json.dumps({x: {"scores": marks, "reasons": {k: "adequate" for k in marks}} for x in letters})
    else:
        text = _prose(random.Random(prompt[-200:] + str(params.temperature)), CANDIDATE_WORDS)
    return mcp_types.CreateMessageResult(
        role="assistant", content=mcp_types.TextContent(type="text", text=text), model="script"
    )


class _Durations(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ms: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "tool", None) == "analyze":
            self.ms.append(float(record.duration_ms))  # type: ignore[attr-defined]


async def _measure(reps: int) -> dict[str, Any]:
    from fastmcp import Client

    from mcp_workbench.server import build_server
    from mcp_workbench.settings import load_settings

    durations = _Durations()
    calls = logging.getLogger("mcp_workbench.calls")
    calls.addHandler(durations)
    calls.setLevel(logging.INFO)
    calls.propagate = False
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(
            None,
            data_dir=Path(data),
            tools=["analysis"],
            state={"keys": [secrets.token_hex(32)]},
            analysis={"plateau_rounds": 8},
            limits={"default": "1000000/minute"},
        )
        server = build_server(settings)

        async def no_model(*_: Any) -> str:
            raise AssertionError("rounds are answered by the benchmark itself")

        results: dict[str, Any] = {}
        async with Client(server, sampling_handler=no_model) as client:
            trivial = {"task": "Say hello.", "context": [{"kind": "text", "text": "hello"}], "mode": "brief"}
            floor: list[float] = []
            for _ in range(reps * 5 + 5):  # the first five warm up
                durations.ms.clear()
                await client.session.call_tool("analyze", trivial)
                floor.extend(durations.ms)
            floor_ms = median(floor[5:])
            for iterations in ITERATIONS:
                args = {
                    "task": "How did the quarter go, by region, and what changed?",
                    "context": _context(),
                    "criteria": ["Compares the regions", "Explains the returns", "States what is uncertain"],
                    "max_iterations": iterations,
                    "quality_threshold": 1.0,
                }
                per_round: list[list[float]] = []
                sizes: list[list[int]] = []
                outcome: dict[str, Any] = {}
                for _ in range(reps + 1):  # the first repetition warms up and is dropped
                    durations.ms.clear()
                    rep_sizes: list[int] = []
                    result = await client.session.call_tool("analyze", args, allow_input_required=True)
                    while isinstance(result, mcp_types.InputRequiredResult):
                        rep_sizes.append(len(result.request_state or ""))
                        answers = {key: _answer(req) for key, req in (result.input_requests or {}).items()}
                        result = await client.session.call_tool(
                            "analyze",
                            args,
                            input_responses=answers,
                            request_state=result.request_state,
                            allow_input_required=True,
                        )
                    outcome = result.structured_content or {}
                    if result.is_error or outcome.get("stop_reason") != "max_iterations":
                        raise RuntimeError(f"the analysis did not run its course: {result.content}")
                    per_round.append(list(durations.ms))
                    sizes.append(rep_sizes)
                per_round, sizes = per_round[1:], sizes[1:]
                rounds = len(per_round[0])
                results[str(iterations)] = {
                    "rounds": rounds,
                    "stop_reason": outcome.get("stop_reason"),
                    "iterations_used": outcome.get("iterations_used"),
                    "round_ms": [round(median([rep[i] for rep in per_round]), 2) for i in range(rounds)],
                    "first_round_ms": round(median([rep[0] for rep in per_round]), 2),
                    "later_round_ms": round(median([ms for rep in per_round for ms in rep[1:]]), 2),
                    "total_ms": round(median([sum(rep) for rep in per_round]), 2),
                    "state_bytes": sizes[0],
                    "max_state_bytes": max(max(rep) for rep in sizes),
                }
    return {
        "reps": reps,
        "context_chars": sum(len(i["text"]) for i in _context()),
        "trivial_call_ms": round(floor_ms, 3),
        "by_iterations": results,
    }


def run(say: Any = print, quick: bool = False) -> dict[str, Any]:
    say("\n== analyze: guard-route rounds without the model, in process")
    results = asyncio.run(_measure(3 if quick else 10))
    say(report(results))
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        "## analyze: server time per round (model excluded) and sealed state, guard route",
        "",
        (
            f"Two candidates per iteration, {results['context_chars']:,} characters of context, medians of "
            f"{results['reps']} runs; times are the server's own per tools/call (in process). For scale, a "
            f"near-trivial analyze call (mode brief, one word of context) took {results['trivial_call_ms']:.2f} ms "
            "in the same run (×: a round's time over it)."
        ),
        "",
        "| iterations | calls | stop | first call ms | later calls ms (median) | all calls ms | max state KB |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    floor = results["trivial_call_ms"]
    for iterations, row in results["by_iterations"].items():
        lines.append(
            f"| {iterations} | {row['rounds']} | {row['stop_reason']} | {row['first_round_ms']:.1f} "
            f"({row['first_round_ms'] / floor:.0f}×) | {row['later_round_ms']:.1f} "
            f"({row['later_round_ms'] / floor:.0f}×) | {row['total_ms']:.1f} | {row['max_state_bytes'] / 1024:.1f} |"
        )
    lines += [
        "",
        (
            "Calls: every round is one tools/call, and the answer is one more. State handed to the client after "
            "each round (bytes, first run):"
        ),
        "",
    ]
    for iterations, row in results["by_iterations"].items():
        lines.append(f"- {iterations} iteration(s): {', '.join(f'{b:,}' for b in row['state_bytes'])}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    outcome = asyncio.run(_measure(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 10))
    print(json.dumps(outcome, indent=1) if "--json" in sys.argv else report(outcome))  # noqa: T201
