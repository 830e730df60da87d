"""The prompts that ask for a candidate analysis: a first draft, and a revision of the best one.

A revision is driven by outside feedback, not by the model's own second thoughts: the judge's
reason for each criterion and the server's failed checks. The same first-draft prompt is the
ready prompt of the model-free brief, so an agent writing its own draft gets the same guidance.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_workbench.platform.sampling import CompletionRequest

SYSTEM = """You are a careful analyst. Work only from the context you are given: use its figures exactly as \
they appear there (or show the calculation from them), quote passages word for word, and say so where the \
context does not settle a question. Do not invent data. Answer in Markdown, leading with the main finding."""

TEMPERATURES = (0.7, 1.0, 0.4, 0.85)
"""Per candidate of a round, so candidates differ."""


def first_prompt(task: str, context: str, criteria: Sequence[str], *, min_words: int, max_words: int) -> str:
    listed = "\n".join(f"- {c}" for c in criteria)
    return (
        f"Task:\n{task}\n\nThe analysis is judged on:\n{listed}\n\n"
        f"Context:\n{context or '(no context was given: answer from the task alone and say so)'}\n\n"
        f"Write the analysis ({min_words}-{max_words} words)."
    )


def revision_prompt(
    task: str,
    context: str,
    criteria: Sequence[str],
    draft: str,
    feedback: Sequence[str],
    *,
    min_words: int,
    max_words: int,
) -> str:
    notes = "\n".join(f"- {line}" for line in feedback) or "- (no specific issues: make it more precise)"
    return (
        f"{first_prompt(task, context, criteria, min_words=min_words, max_words=max_words)}\n\n"
        f"The best draft so far:\n[Draft]\n{draft}\n[End of draft]\n\n"
        f"What a reviewer and the server's checks found:\n{notes}\n\n"
        "Write an improved analysis that fixes these issues and keeps what is already right. Reply with the "
        "full analysis only."
    )


def candidate_request(prompt: str, index: int, *, max_tokens: int) -> CompletionRequest:
    return CompletionRequest.single(
        prompt,
        max_tokens=max_tokens,
        system=SYSTEM,
        temperature=TEMPERATURES[index % len(TEMPERATURES)],
        intelligence_priority=0.8,
        speed_priority=0.3,
    )
