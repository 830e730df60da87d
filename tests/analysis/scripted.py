"""A scripted stand-in for the caller's (or the operator's) model: the one thing these tests cannot run.

It answers the two kinds of request ``analyze`` makes, recognised by their system prompt:

- a candidate: a draft tagged ``[draft kKcC]`` (iteration K, candidate C), whose quality the
  script decides. The iteration is the order in which distinct generation prompts arrive (all
  candidates of one iteration share a prompt; they differ by temperature, which gives C);
- a judgement: the marks the script gives each tagged draft it sees, as the JSON the judge is
  asked for, in the letters the prompt used. The order the drafts were shown in is recorded.

Everything is answered as a real client's sampling handler, or a real chat-completions server,
would receive it: from the request's messages, system prompt and temperature.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mcp_workbench.analysis.judge import SYSTEM as JUDGE_SYSTEM
from mcp_workbench.analysis.prompts import TEMPERATURES

TAG = re.compile(r"\[draft k(\d+)c(\d+)\]")
DRAFT_BLOCK = re.compile(r"\[Draft ([A-D])\]\n(.*?)\n\[End of draft \1\]", re.DOTALL)

Marks = Callable[[int, int], int]
"""(iteration, candidate) -> the judge's mark 1-5 on every criterion."""


class Refused(Exception):
    """Raised by the script where a person (or the model) refuses a request."""


@dataclass
class ScriptedModel:
    marks: Marks = lambda iteration, candidate: 3
    body: str = (
        "In March the shop sold 120 units, as the context says, and returns stayed low. The figures come "
        "straight from the context; nothing else is known about other months."
    )
    body_of: Callable[[int, int], str] | None = None
    """(iteration, candidate) -> the draft's text, instead of ``body``."""
    garble_judge: bool = False
    """Answer judge requests with prose instead of the JSON asked for."""
    refuse_at: tuple[str, int] | None = None
    """("candidate", K): refuse the candidates of iteration K; ("judge", K): refuse judging iteration K."""
    prompts: list[str] = field(default_factory=list)
    judged: list[list[tuple[int, int]]] = field(default_factory=list)
    candidates: int = 0
    requests: list[dict[str, object]] = field(default_factory=list)

    def answer(self, system: str | None, prompt: str, temperature: float | None, max_tokens: int = 0) -> str:
        self.requests.append({"system": system, "prompt": prompt, "temperature": temperature, "max_tokens": max_tokens})
        if system == JUDGE_SYSTEM:
            return self._judge(prompt)
        return self._candidate(prompt, temperature)

    def _candidate(self, prompt: str, temperature: float | None) -> str:
        if prompt not in self.prompts:
            self.prompts.append(prompt)
        iteration = self.prompts.index(prompt) + 1
        if self.refuse_at == ("candidate", iteration):
            raise Refused(f"the person declined iteration {iteration}")
        index = TEMPERATURES.index(temperature) if temperature in TEMPERATURES else 0
        self.candidates += 1
        body = self.body_of(iteration, index) if self.body_of else self.body
        return f"[draft k{iteration}c{index}] {body}"

    def _judge(self, prompt: str) -> str:
        shown: list[tuple[int, int]] = []
        answer: dict[str, object] = {}
        criteria = len(re.findall(r"^\d+\. ", prompt.split("Criteria:\n", 1)[1].split("\n\n", 1)[0], re.MULTILINE))
        for letter, draft in DRAFT_BLOCK.findall(prompt):
            tag = TAG.search(draft)
            assert tag is not None, draft[:100]
            iteration, index = int(tag.group(1)), int(tag.group(2))
            shown.append((iteration, index))
            mark = self.marks(iteration, index)
            answer[letter] = {
                "scores": {str(n): mark for n in range(1, criteria + 1)},
                "reasons": {str(n): f"mark {mark} for k{iteration}c{index}" for n in range(1, criteria + 1)},
            }
        if self.refuse_at == ("judge", shown[0][0]):
            raise Refused(f"the person declined judging iteration {shown[0][0]}")
        self.judged.append(shown)
        if self.garble_judge:
            return "Draft A reads better than the others, I think."
        return "Here is my assessment:\n```json\n" + json.dumps(answer) + "\n```"

    def sampling_handler(self) -> Callable[..., object]:
        """A ``fastmcp.Client(sampling_handler=...)``: raising refuses the request, as a person would."""

        async def handle(messages: list, params: object, context: object) -> str:
            text = "".join(m.content.text for m in messages)
            return self.answer(params.system_prompt, text, params.temperature, params.max_tokens)

        return handle
