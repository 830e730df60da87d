"""Real loopback web sites for the web tests.

A :class:`Site` is a threaded ``http.server`` on 127.0.0.1 with a free port, answering the
routes a test sets and recording every request it receives, so a test can assert that an
attack never reached it. Sites are reached through host names fixed by ``[web] resolve``
(``site.test`` → 127.0.0.1), the designed resolver seam: real DNS is not available here, and
this way ``allow_hosts`` can trust the name without trusting the loopback address itself.
"""

from __future__ import annotations

import contextlib
import http.server
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

SITE = "site.test"  # allowed by name, resolves to 127.0.0.1
EVIL = "evil.test"  # not allowed, resolves to 127.0.0.1
HANG_LIMIT_S = 30.0  # a hanging handler gives up after this, so a failed test cannot wedge the run


@dataclass
class Seen:
    """One request as the site received it."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    wait: threading.Event | None = None  # hold the answer until the event is set

    def payload(self) -> bytes | Iterable[bytes]:
        return self.body.encode() if isinstance(self.body, str) else self.body


Route = Reply | Callable[[Seen], Reply]


class Site:
    """A real HTTP(S) server on 127.0.0.1 serving ``routes``; unknown paths answer 404."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                seen = Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                site.seen.append(seen)
                route = site.routes.get(self.path.split("?", 1)[0]) or site.routes.get(self.path)
                reply = route(seen) if callable(route) else route or Reply(404, "not found")
                if reply.wait is not None:
                    reply.wait.wait(HANG_LIMIT_S)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply)  # a client that stops reading at its cap breaks the pipe: expected

            def _send(self, reply: Reply) -> None:
                payload = reply.payload()
                self.send_response(reply.status)
                headers = {k.lower(): v for k, v in reply.headers.items()}
                headers.setdefault("content-type", "text/plain; charset=utf-8")
                for key, value in headers.items():
                    self.send_header(key, value)
                if isinstance(payload, bytes):
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in payload:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> Site:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/", host: str = SITE) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for seen in self.seen if seen.path == path)

    @property
    def pages_seen(self) -> list[str]:
        """Paths requested, robots.txt left out."""
        return [seen.path for seen in self.seen if seen.path != "/robots.txt"]
