"""A model the operator runs or rents, reached over the OpenAI-compatible chat-completions API.

One wire format covers local servers (Ollama, vLLM, llama.cpp's server, LM Studio) and hosted
APIs: ``POST {base_url}/chat/completions`` with ``model``, ``messages``, ``max_tokens`` and
``temperature``; the answer is ``choices[0].message.content``. The endpoint is configuration,
like a database URL, so it is not behind the web capability's SSRF guard. A failure of any
kind (refused, an error status, no answer within ``timeout_s``, a malformed body) is a failed
:class:`Completion` whose error says what happened, for the algorithm to end on.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import anyio
import httpx2

from mcp_workbench.platform.sampling.core import Completion, CompletionRequest
from mcp_workbench.platform.sampling.endpoint import ModelEndpointSettings

log = logging.getLogger("mcp_workbench.sampling")

_ERROR_BODY_CHARS = 300


class ServerModel:
    """The pooled client of one endpoint; :meth:`complete` never raises for the endpoint's failures."""

    def __init__(self, settings: ModelEndpointSettings) -> None:
        if not settings.configured:
            raise ValueError("a server model needs base_url and model")
        self.settings = settings
        self._client: httpx2.AsyncClient | None = None
        self._slots = anyio.Semaphore(settings.max_concurrency)

    @property
    def available(self) -> bool:
        """Configured, and its key (if it names one) is in the environment."""
        name = self.settings.api_key_env
        return name is None or bool(os.environ.get(name))

    def _http(self) -> httpx2.AsyncClient:
        if self._client is None:
            headers = {"content-type": "application/json"}
            if self.settings.api_key_env and (key := os.environ.get(self.settings.api_key_env)):
                headers["authorization"] = f"Bearer {key}"
            self._client = httpx2.AsyncClient(
                headers=headers,
                timeout=httpx2.Timeout(self.settings.timeout_s, connect=min(10.0, self.settings.timeout_s)),
                limits=httpx2.Limits(max_connections=self.settings.max_concurrency),
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def body(self, request: CompletionRequest) -> dict[str, Any]:
        """The chat-completions request body for ``request``."""
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend({"role": m.role, "content": m.text} for m in request.messages)
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "stream": False,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body

    async def complete(self, request: CompletionRequest) -> Completion:
        url = f"{self.settings.base_url}/chat/completions"
        async with self._slots:
            try:
                with anyio.fail_after(self.settings.timeout_s):
                    response = await self._http().post(url, json=self.body(request))
            except TimeoutError:
                return Completion.failed(f"the server model did not answer within {self.settings.timeout_s:g} s")
            except httpx2.HTTPError as exc:
                log.warning("server model unreachable", extra={"url": url, "error": str(exc)})
                return Completion.failed(f"the server model could not be reached ({type(exc).__name__})")
        if response.status_code >= 400:
            excerpt = response.text[:_ERROR_BODY_CHARS]
            log.warning("server model refused", extra={"status": response.status_code, "body": excerpt})
            return Completion.failed(f"the server model answered HTTP {response.status_code}: {excerpt}")
        return _completion(response.content)


def _completion(raw: bytes) -> Completion:
    """The first choice of a chat-completions answer, or a failure saying what was wrong with it."""
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return Completion.failed("the server model's answer is not a chat completion")
    refusal = message.get("refusal") if isinstance(message, dict) else None
    if refusal:
        return Completion.failed(f"the server model refused: {str(refusal)[:_ERROR_BODY_CHARS]}")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if not isinstance(content, str):
        return Completion.failed("the server model's answer has no text")
    model = data.get("model") if isinstance(data.get("model"), str) else None
    reason = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    if reason == "content_filter":
        return Completion.failed("the server model's content filter stopped the answer")
    return Completion(text=content, model=model, stop_reason=reason)
