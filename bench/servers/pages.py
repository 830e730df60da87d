"""The loopback web site the fetch servers read: ``/small``, ``/big`` (any query string) and
``/robots.txt`` (everything allowed), with validators and ``Cache-Control: max-age=3600``
so a caching client may reuse a response. HTTP/1.1 keep-alive, one thread per connection,
each response sent in one write with TCP_NODELAY.

    python -m bench.servers.pages PAGES_DIR PORT
"""

from __future__ import annotations

import hashlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROBOTS = b"User-agent: *\nAllow: /\n"


def make_handler(pages: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    etags = {name: '"' + hashlib.sha1(body).hexdigest()[:16] + '"' for name, body in pages.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as one write, with TCP_NODELAY: otherwise the body waits for the
        # client's delayed ACK of the headers (~40 ms) and every fetch would measure that stall.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/robots.txt":
                self._send(200, ROBOTS, "text/plain", None)
                return
            name = path.strip("/")
            if name not in pages:
                self._send(404, b"not found", "text/plain", None)
                return
            if self.headers.get("If-None-Match") == etags[name]:
                self._send(304, b"", "text/html; charset=utf-8", etags[name])
                return
            self._send(200, pages[name], "text/html; charset=utf-8", etags[name])

        def _send(self, status: int, body: bytes, kind: str, etag: str | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "public, max-age=3600")
            self.send_header("Last-Modified", "Mon, 23 Nov 2026 12:00:00 GMT")
            if etag:
                self.send_header("ETag", etag)
            self._headers_buffer.append(b"\r\n")  # end_headers() without its separate flush
            head = b"".join(self._headers_buffer)
            self._headers_buffer = []
            self.wfile.write(head + (body if status != 304 else b""))

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    pages = {"small": (folder / "small.html").read_bytes(), "big": (folder / "big.html").read_bytes()}
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(pages))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
