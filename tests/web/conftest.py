"""Fixtures of the web tests: loopback sites (see :mod:`tests.support.loopback_site`), settings that
reach them on purpose, and a throwaway CA for TLS."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.settings import Settings
from tests.support.loopback_site import EVIL, SITE, Reply, Site


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
