"""The research result as text for the model: answer, how sure, what each source did, and a
numbered Sources list (last, so ``[n]`` markers read naturally against it)."""

from __future__ import annotations

from mcp_workbench.research.models import ResearchResult

ROUTES = {
    "extractive": "extractive: passages quoted from the sources",
    "guard": "written by the caller's model",
    "session": "written by the caller's model",
    "server_model": "written by the server's model",
}


def render(result: ResearchResult) -> str:
    lines = [f"Research: {result.question}", ""]
    if len(result.plan) > 1:
        lines.append("Plan: " + "; ".join(f"({i}) {step}" for i, step in enumerate(result.plan, start=1)))
        lines.append("")
    lines += [f"Synthesis ({ROUTES[result.synthesis_route]}):", result.synthesis, ""]
    v = result.validation
    lines.append(
        f"Validation: score {v.score:.2f}, confidence {result.confidence}; {v.supported_sentences} of "
        f"{v.cited_sentences} cited sentences supported by their sources; coverage {v.coverage:.0%} of the plan; "
        f"source diversity {v.source_diversity:.2f}; corroboration {v.corroboration:.2f}."
    )
    said = []
    for source in result.sources:
        text = f"{source.name} {source.status} ({source.results} results, {source.elapsed_ms / 1000:.1f} s)"
        said.append(f"{text}: {source.error}" if source.error else text)
    lines += ["Sources asked: " + "; ".join(said) + "."]
    if result.unfinished:
        lines.append(
            "Some sources had not finished when the time budget ran out. Call research again with the same question "
            + ("and continuation to finish them." if result.continuation else "and a larger time_budget_s.")
        )
    lines += ["", "Sources:"]
    if not result.evidence:
        lines.append("(none: no source returned evidence for this question)")
    for item in result.evidence:
        detail = [item.source]
        if item.authors:
            detail.append(", ".join(item.authors[:3]) + (" et al." if len(item.authors) > 3 else ""))
        if item.published:
            detail.append(item.published)
        where = item.url or item.uri or ""
        lines.append(f"[{item.n}] {item.title} ({'; '.join(detail)}) {where}".rstrip())
    return "\n".join(lines)
