"""What ``web_fetch`` may reach under this configuration: the SSRF guard itself, asked about
the addresses that matter, with the operator's ``[web] allow_hosts`` and ``[web] resolve``."""

from __future__ import annotations

import ipaddress

from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, skip, warn
from mcp_workbench.platform.errors import WorkbenchError
from mcp_workbench.web import ssrf

# Cloud metadata endpoints hand out the machine's credentials: never reachable for a model.
METADATA_URLS = (
    "http://169.254.169.254/latest/meta-data/",
    "http://0xA9FEA9FE/latest/meta-data/",  # the same address, spelt in hex
    "http://[::ffff:169.254.169.254]/",  # and IPv4-mapped
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://100.100.100.200/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
)
# Reachable only when an operator opens them on purpose (an intranet, a local dev server).
INTERNAL_URLS = ("http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/")


def _reachable(url: str, policy: ssrf.HostPolicy) -> bool:
    try:
        ssrf.check_url(url, policy)
    except WorkbenchError:
        return False
    return True


def _pinned(resolve: dict[str, list[str]], policy: ssrf.HostPolicy) -> list[tuple[str, str, str]]:
    """Names pinned by ``[web] resolve`` to addresses the guard would otherwise refuse, and allowed."""
    found = []
    for host, addresses in resolve.items():
        for text in addresses:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                continue
            label = ssrf.classify_address(address)
            if label is None:
                continue
            try:
                ssrf.check_addresses(host, [address], policy)
            except WorkbenchError:
                continue
            found.append((host, text, label))
    return found


async def egress(ctx: Context) -> list[Finding]:
    if ctx.settings is None:
        return [skip("egress", "the configuration does not load (see the config check)")]
    web = ctx.settings.web
    if not ctx.settings.enabled("web"):
        return [ok("egress", "web_fetch is off (tools does not include 'web')")]
    policy = ssrf.HostPolicy.from_entries(web.allow_hosts)
    open_metadata = [url for url in METADATA_URLS if _reachable(url, policy)]
    pinned = _pinned(web.resolve, policy)
    metadata_pins = [p for p in pinned if p[2] == ssrf.CLOUD_METADATA]
    details = {"allow_hosts": list(web.allow_hosts), "metadata_reachable": open_metadata}
    if open_metadata or metadata_pins:
        where = ", ".join([*open_metadata, *(f"{h} -> {a}" for h, a, _ in metadata_pins)])
        return [
            fail(
                "egress",
                f"web_fetch could reach cloud metadata ({where}): the machine's credentials could leak to a model",
                "remove the entries that open it from [web] allow_hosts (a broad CIDR such as 169.254.0.0/16 or "
                "0.0.0.0/0, or a metadata host name) and from [web] resolve",
                details=details,
            )
        ]
    opened = [url for url in INTERNAL_URLS if _reachable(url, policy)]
    opened += [f"{h} -> {a} ({label})" for h, a, label in pinned]
    refused = f"cloud metadata refused in every spelling tried ({len(METADATA_URLS)} URLs)"
    if opened:
        return [
            warn(
                "egress",
                f"{refused}; [web] allow_hosts opens internal addresses: {', '.join(opened)}",
                "keep only the hosts web_fetch must reach (a model can be steered into fetching whatever is open)",
                details={**details, "internal_reachable": opened},
            )
        ]
    return [ok("egress", f"{refused}; loopback and private addresses refused", details=details)]
