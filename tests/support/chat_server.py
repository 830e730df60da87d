"""A real OpenAI-compatible chat-completions server on loopback, answering from a script.

It speaks the wire format Ollama, vLLM, llama.cpp and hosted APIs share: ``POST
/v1/chat/completions`` with ``{model, messages: [{role, content}], max_tokens, temperature}``,
answered with ``{id, object: "chat.completion", created, model, choices: [{index, message:
{role, content}, finish_reason}], usage}``. Every request is recorded with its headers, so a test
can check what the server was sent (the bearer key included).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Answer = Callable[[str | None, str, float | None, int], str]
"""(system prompt, user prompt, temperature, max_tokens) -> the assistant's text; raising answers HTTP 500."""


@dataclass
class ChatServer:
    answer: Answer
    seen: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None
    """When set, every request is answered with this status and an OpenAI-style error body."""
    refusal: str | None = None
    """When set, every answer is a refusal (``message.refusal``, no content)."""
    hold: threading.Event | None = None
    """When set, answers wait for this event (or 30 s): a model that does not answer in time."""
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.hold is not None:
            self.hold.wait(30)
        if self.status is not None:
            return self.status, {"error": {"message": "the model is overloaded", "type": "server_error"}}
        messages = body["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), None)
        prompt = "".join(m["content"] for m in messages if m["role"] == "user")
        try:
            text = self.answer(system, prompt, body.get("temperature"), body.get("max_tokens", 0))
        except Exception as exc:
            return 500, {"error": {"message": str(exc), "type": "server_error"}}
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if self.refusal is not None:
            message = {"role": "assistant", "content": None, "refusal": self.refusal}
        return 200, {
            "id": f"chatcmpl-{len(self.seen)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4, "total_tokens": 0},
        }

    @contextmanager
    def running(self) -> Iterator[ChatServer]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length))
                server.seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body})  # fmt: skip
                if self.path != "/v1/chat/completions":
                    status, reply = 404, {"error": {"message": "not found"}}
                else:
                    status, reply = server._reply(body)
                payload = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            if self.hold is not None:
                self.hold.set()
            httpd.shutdown()
            httpd.server_close()
