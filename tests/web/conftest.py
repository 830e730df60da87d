"""Real loopback web sites for the web tests, and settings that reach them on purpose.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.settings import Settings

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


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def target() -> Iterator[Site]:
    """A second loopback server: what an attack would want to reach. It must never see a request."""
    server = Site().start()
    server.route("/", Reply(200, "internal secret"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def web_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings with only the web tools, ``site.test`` allowed and both test names resolving to 127.0.0.1."""

    def make(**web: Any) -> Settings:
        resolve = {SITE: ["127.0.0.1"], EVIL: ["127.0.0.1"], **web.pop("resolve", {})}
        allow = web.pop("allow_hosts", [SITE])
        return make_settings(tools=["web"], web={"allow_hosts": allow, "resolve": resolve, **web})

    return make


@dataclass
class Certs:
    ca_file: Path
    server: ssl.SSLContext


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A throwaway CA and a server certificate for ``site.test``, made with ``cryptography``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tmp_path_factory.mktemp("certs")
    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key: Any, issuer: x509.Name, issuer_key: Any, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(SITE)]), critical=False)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mcp-workbench test CA")])
    ca_cert = build("mcp-workbench test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = build(SITE, server_key, ca_name, ca_key, ca=False)

    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        server_cert.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return Certs(ca_file=ca_file, server=context)


@pytest.fixture
def tls_site(certs: Certs) -> Iterator[Site]:
    server = Site(tls=certs.server).start()
    try:
        yield server
    finally:
        server.stop()
