"""The SSRF guard on its own: pure functions, every address class and every spelling."""

from __future__ import annotations

import ipaddress

import pytest

from mcp_workbench.platform.errors import ErrorCode, InvalidInput, PermissionDenied
from mcp_workbench.web.ssrf import (
    CLOUD_METADATA,
    AddressRefused,
    HostPolicy,
    check_addresses,
    check_url,
    classify_address,
    parse_ip_host,
)

NO_EXCEPTIONS = HostPolicy()


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", CLOUD_METADATA),
        ("169.254.170.2", CLOUD_METADATA),
        ("100.100.100.200", CLOUD_METADATA),
        ("192.0.0.192", CLOUD_METADATA),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("100.127.255.254", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified ('this network')"),
        ("0.1.2.3", "unspecified ('this network')"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("198.18.0.1", "reserved (benchmarking)"),
        ("198.19.255.255", "reserved (benchmarking)"),
        ("192.0.2.1", "reserved (documentation)"),
        ("198.51.100.7", "reserved (documentation)"),
        ("203.0.113.9", "reserved (documentation)"),
        ("192.0.0.8", "reserved (IETF protocol assignments)"),
        ("192.88.99.1", "reserved (6to4 relay anycast)"),
    ],
)
def test_non_public_ipv4_addresses_are_classified(address: str, label: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) == label


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private (unique-local)"),
        ("fd12:3456::1", "private (unique-local)"),
        ("fd00:ec2::254", CLOUD_METADATA),
        ("fec0::1", "site-local (deprecated)"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved (documentation)"),
        ("3fff::1", "reserved (documentation)"),
        ("2001:2::1", "reserved (benchmarking)"),
        ("100::1", "reserved (discard-only)"),
        ("64:ff9b:1::a00:1", "private (local-use NAT64)"),
        ("::ffff:127.0.0.1", "IPv4-mapped form of loopback 127.0.0.1"),
        ("::ffff:7f00:1", "IPv4-mapped form of loopback 127.0.0.1"),
        ("::ffff:169.254.169.254", f"IPv4-mapped form of {CLOUD_METADATA} 169.254.169.254"),
        ("::ffff:10.1.2.3", "IPv4-mapped form of private 10.1.2.3"),
        ("::127.0.0.1", "IPv4-compatible form of loopback 127.0.0.1"),
        ("::8.8.8.8", "IPv4-compatible (deprecated)"),
        ("64:ff9b::127.0.0.1", "NAT64 form of loopback 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", f"NAT64 form of {CLOUD_METADATA} 169.254.169.254"),
        ("2002:7f00:1::", "6to4 form of loopback 127.0.0.1"),
        ("2002:c0a8:101::1", "6to4 form of private 192.168.1.1"),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "Teredo tunnel"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo tunnel to reserved (documentation) 192.0.2.45"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo tunnel to loopback 127.0.0.1"),
    ],
)
def test_non_public_ipv6_addresses_are_classified(address: str, label: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) == label


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"],
)
def test_public_addresses_pass(address: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) is None


def test_a_scoped_link_local_address_is_still_link_local() -> None:
    assert classify_address(ipaddress.ip_address("fe80::1%eth0")) == "link-local"


@pytest.mark.parametrize(
    ("spelling", "meaning"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0000.0000.0001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("%31%32%37.0.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("3232235777", "192.168.1.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_ip_literals_are_recognised_in_every_spelling(spelling: str, meaning: str) -> None:
    assert parse_ip_host(spelling) == ipaddress.ip_address(meaning)


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.4.5", "256.0.0.1", "08.0.0.1", "0x1g.0.0.1", "1_27.0.0.1", "127.0.0.1x", ""]
)
def test_names_and_invalid_numbers_are_not_ip_literals(host: str) -> None:
    assert parse_ip_host(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8080/admin",
        "https://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://%31%32%37.0.0.1/",
        "http://127.0.0.1./",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://app.localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata.goog/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://[fe80::1%25eth0]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://evil.com\\@127.0.0.1/",
    ],
)
def test_urls_to_refused_hosts_are_refused_before_any_lookup(url: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_url(url, NO_EXCEPTIONS)
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert "SSRF guard" in refused.value.message
    assert refused.value.details["address_class"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/", "gopher://127.0.0.1:6379/_", "data:,x"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(PermissionDenied, match="only http and https"):
        check_url(url, NO_EXCEPTIONS)


def test_credentials_in_urls_are_refused() -> None:
    with pytest.raises(PermissionDenied, match="credentials"):
        check_url("https://user:secret@example.com/", NO_EXCEPTIONS)


@pytest.mark.parametrize("url", ["not a url", "/relative/path", "http:///path", "http://example.com:99999/"])
def test_malformed_urls_are_validation_errors(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url, NO_EXCEPTIONS)


def test_public_urls_pass_unchanged() -> None:
    assert str(check_url("https://example.com/a?b=1", NO_EXCEPTIONS)) == "https://example.com/a?b=1"
    assert check_url("http://8.8.8.8:8080/", NO_EXCEPTIONS).port == 8080


def test_the_redirecting_page_is_named_in_the_refusal() -> None:
    with pytest.raises(AddressRefused, match=r"redirected from https://example\.com/") as refused:
        check_url("http://127.0.0.1/", NO_EXCEPTIONS, via="https://example.com/")
    assert refused.value.details["redirected_from"] == "https://example.com/"


def test_resolved_addresses_are_refused_if_any_is_not_public() -> None:
    public, private = ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.5")
    assert check_addresses("example.com", [public], NO_EXCEPTIONS, resolved=True) == [public]
    with pytest.raises(AddressRefused, match=r"resolves to 10\.0\.0\.5, a private address"):
        check_addresses("rebind.example", [public, private], NO_EXCEPTIONS, resolved=True)


def test_allow_list_admits_addresses_networks_and_names() -> None:
    policy = HostPolicy.from_entries(["127.0.0.1", "10.1.0.0/16", "wiki.corp.example", "*.intra.example", "::1"])
    loopback = ipaddress.ip_address("127.0.0.1")
    assert check_url("http://127.0.0.1:9000/", policy).host == "127.0.0.1"
    assert check_url("http://[::1]/", policy).host == "::1"
    assert check_addresses("x", [ipaddress.ip_address("10.1.2.3")], policy) == [ipaddress.ip_address("10.1.2.3")]
    assert check_addresses("wiki.corp.example", [ipaddress.ip_address("10.9.9.9")], policy)
    assert check_addresses("docs.intra.example", [ipaddress.ip_address("192.168.3.3")], policy)
    assert check_url("http://localhost.intra.example/", policy)
    with pytest.raises(AddressRefused):
        check_addresses("x", [ipaddress.ip_address("10.2.0.1")], policy)
    with pytest.raises(AddressRefused):
        check_addresses("intra.example", [ipaddress.ip_address("10.2.0.1")], policy)  # the bare suffix is not covered
    with pytest.raises(AddressRefused):
        check_url("http://127.0.0.2/", policy)
    assert policy.allows_address(loopback)


def test_allowing_127_0_0_1_does_not_allow_localhost_by_name() -> None:
    with pytest.raises(AddressRefused, match="loopback host"):
        check_url("http://localhost/", HostPolicy.from_entries(["127.0.0.1"]))
