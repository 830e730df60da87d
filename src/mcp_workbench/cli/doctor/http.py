"""An HTTP deployment: auth, the keys that seal multi-round call state (with a fingerprint to
compare replicas), the Redis that shares rate limits and research's turns at the providers,
and the port.

These run when the transport is HTTP (the configuration's, or ``doctor --transport http``);
Redis whenever ``[limits] storage`` or ``[research] pacing_storage`` names it, since stdio
servers count limits and book turns there too.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import stat
from collections.abc import Sequence
from typing import Any

import httpx2
from pydantic import SecretBytes, SecretStr

from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, skip, warn
from mcp_workbench.platform.keys import KeyStore
from mcp_workbench.platform.limits import is_shared
from mcp_workbench.settings import is_loopback_host

MIN_KEY_BYTES = 32
NOT_LOADED = "the configuration does not load (see the config check)"
NOT_HTTP = "the transport is stdio (run doctor --transport http to check an HTTP deployment)"
NEW_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _http_skip(ctx: Context, check: str) -> Finding | None:
    if ctx.settings is None:
        return skip(check, NOT_LOADED)
    if not ctx.http:
        return skip(check, NOT_HTTP)
    return None


def fingerprint(items: Sequence[bytes]) -> str:
    """A short digest that is equal on two machines exactly when ``items`` are (in order);
    safe to print, as it reveals nothing of the secrets."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(len(item).to_bytes(4, "big") + item)
    return digest.hexdigest()[:12]


async def http_auth(ctx: Context) -> list[Finding]:
    if (skipped := _http_skip(ctx, "http-auth")) is not None:
        return [skipped]
    assert ctx.settings is not None
    http = ctx.settings.http
    exposed = not is_loopback_host(http.host)
    found: list[Finding] = []
    if http.auth == "none":
        found.append(
            warn(
                "http-auth",
                f"no authentication: anyone who can reach {http.host}:{http.port} uses every tool",
                'set [http] auth = "keys" (mcp-workbench keys create) or "jwt"',
            )
        )
    elif http.auth == "jwt":
        jwt = http.jwt
        source = jwt.jwks_uri or "a configured public key"
        summary = f"JWT signed with {jwt.algorithm}, keys from {source}; issuer {jwt.issuer or 'any'}"
        if jwt.audience:
            found.append(ok("http-auth", f"{summary}, audience {jwt.audience}"))
        else:
            found.append(
                warn(
                    "http-auth",
                    f"{summary}, any audience",
                    "set [http.jwt] audience: a token this issuer made for another service is accepted otherwise",
                )
            )
    else:
        store = KeyStore.in_dir(ctx.settings.data_dir)
        try:
            records = store.list()
        except (OSError, ValueError, TypeError, KeyError) as exc:
            return [
                fail(
                    "http-auth",
                    f"{store.path} cannot be read: {exc}",
                    "restore the file from a backup, or move it away and create keys again",
                )
            ]
        active = [r for r in records if r.active]
        if not active:
            found.append(
                fail(
                    "http-auth",
                    f'auth = "keys", but {store.path} holds no active key: every request gets 401',
                    "create one: mcp-workbench keys create --name NAME --scopes data:read,web",
                )
            )
        else:
            digest = fingerprint(sorted(f"{r.id}:{r.hash}".encode() for r in active))
            found.append(
                ok(
                    "http-auth",
                    f"{len(active)} active API key(s) in {store.path} (store fingerprint "
                    f"{digest}: equal on replicas that share the keys)",
                    details={"fingerprint": digest},
                )
            )
            mode = stat.S_IMODE(store.path.stat().st_mode)
            if os.name != "nt" and mode & 0o077:
                found.append(
                    warn(
                        "http-auth",
                        f"{store.path} is readable by other users (mode {mode:o})",
                        f"chmod 600 {store.path}",
                    )
                )
    if exposed and not http.host_origin_protection:
        found.append(
            warn(
                "http-auth",
                f"bound to {http.host} with Host/Origin protection off",
                "set [http] host_origin_protection = true",
            )
        )
    return found


def _secret_bytes(value: Any) -> bytes:
    if isinstance(value, SecretStr | SecretBytes):
        value = value.get_secret_value()
    return value.encode() if isinstance(value, str) else bytes(value)


def configured_sealing_keys(settings: Any) -> list[bytes] | None:
    """The ``[state] keys`` of these settings as bytes; None when this version has no such section.

    Read defensively: the section is optional and its shape (SecretStr or SecretBytes) may vary.
    """
    state = getattr(settings, "state", None)
    if state is None:
        return None
    keys = getattr(state, "keys", None) or []
    return [_secret_bytes(key) for key in keys]


def judge_sealing_keys(keys: list[bytes] | None, *, shared: bool) -> Finding:
    """``shared``: more than one process serves this deployment (workers, stateless replicas)."""
    if not keys:
        where = "not configured" if keys is not None else "not configured (this version has no [state] section)"
        summary = f"{where}: each process seals multi-round call state with keys of its own"
        if shared:
            return warn(
                "sealing-keys",
                summary + ", so a call that continues on another process or replica fails",
                f"set [state] keys to the same list on every replica (each key >= {MIN_KEY_BYTES} bytes, "
                f"e.g. {NEW_KEY})",
            )
        return ok("sealing-keys", summary + " (fine for one process)")
    short = [i for i, key in enumerate(keys, 1) if len(key) < MIN_KEY_BYTES]
    digest = fingerprint(keys)
    details = {"keys": len(keys), "fingerprint": digest}
    if short:
        return fail(
            "sealing-keys",
            f"key(s) {', '.join(map(str, short))} of [state] keys are shorter than {MIN_KEY_BYTES} bytes",
            f"replace them with longer ones, e.g. {NEW_KEY}",
            details=details,
        )
    return ok(
        "sealing-keys",
        f"{len(keys)} key(s), fingerprint {digest}: it must be the same on every replica",
        details=details,
    )


async def sealing_keys(ctx: Context) -> list[Finding]:
    if (skipped := _http_skip(ctx, "sealing-keys")) is not None:
        return [skipped]
    assert ctx.settings is not None
    http = ctx.settings.http
    return [judge_sealing_keys(configured_sealing_keys(ctx.settings), shared=http.workers > 1 or http.stateless)]


def _shown(url: str) -> str:
    parsed = httpx2.URL(url)
    return str(parsed.copy_with(password="***")) if parsed.password else url


async def redis(ctx: Context) -> list[Finding]:
    if ctx.settings is None:
        return [skip("redis", NOT_LOADED)]
    limits = ctx.settings.limits
    http = ctx.settings.http
    if not is_shared(limits.storage):
        if ctx.http and http.workers > 1:
            return [
                warn(
                    "redis",
                    f"limits are counted in memory, separately by each of {http.workers} workers",
                    'set [limits] storage = "redis://HOST:6379/0" so the workers share them',
                )
            ]
        return [ok("redis", "not used: rate limits are counted in this process's memory")]
    shown = _shown(limits.storage)
    problem = await _redis_problem(limits.storage)
    if problem is not None:
        meanwhile = (
            "calls are served without rate limits"
            if limits.on_storage_error == "open"
            else 'every call is refused (on_storage_error = "closed")'
        )
        return [
            fail(
                "redis",
                f"{shown} does not answer ({problem}); meanwhile {meanwhile}",
                "start Redis there, or correct [limits] storage",
            )
        ]
    return [ok("redis", f"{shown} answers", details={"storage": shown})]


async def research_pacing(ctx: Context) -> list[Finding]:
    """Whether the processes that serve book their turns at the providers in one place: each
    provider's etiquette is what the provider sees from all of them together."""
    if ctx.settings is None:
        return [skip("research-pacing", NOT_LOADED)]
    settings = ctx.settings
    if "research" not in settings.tools:
        return [ok("research-pacing", "research is not served")]
    storage = settings.research_pacing_storage
    setting = "[research] pacing_storage" if settings.research.pacing_storage else "[limits] storage"
    if is_shared(storage):
        shown = _shown(storage)
        problem = await _redis_problem(storage)
        if problem is not None:
            return [
                fail(
                    "research-pacing",
                    f"{shown} ({setting}) does not answer ({problem}); meanwhile each process paces the "
                    "providers on its own, so together they ask more often than the providers allow",
                    f"start Redis there, or correct {setting}",
                )
            ]
        return [ok("research-pacing", f"turns at the providers are booked on {shown}, shared by every process")]
    processes = _processes(ctx)
    if processes is not None:
        return [
            warn(
                "research-pacing",
                f"turns at the providers are booked in memory, separately by {processes}, so together they ask "
                "arXiv, GDELT, Crossref and Wikipedia more often than each one's etiquette allows",
                'set [limits] storage (or [research] pacing_storage) = "redis://HOST:6379/0" so every process '
                "books its turns there",
            )
        ]
    return [ok("research-pacing", "turns at the providers are booked in this process's memory (fine for one process)")]


def _processes(ctx: Context) -> str | None:
    """Who serves besides this process, as the report says it; None for one process alone."""
    if not ctx.http or ctx.settings is None:
        return None
    http = ctx.settings.http
    if http.workers > 1:
        return f"each of {http.workers} workers"
    if http.stateless:
        return "each replica (stateless HTTP is served by several)"
    return None


async def _redis_problem(url: str) -> str | None:
    """Why Redis at ``url`` does not answer a PING, or None when it does."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(RedisError, OSError):
            await client.aclose()
    return None


def _bind_problem(host: str, port: int) -> OSError | None:
    """Bind as the server would (SO_REUSEADDR, no SO_REUSEPORT), then let go."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return exc
    return None


async def _running_workbench(host: str, port: int) -> str | None:
    """The version of an mcp-workbench answering /healthz there, if one does."""
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    literal = f"[{target}]" if ":" in target else target
    try:
        async with httpx2.AsyncClient(timeout=1.5, trust_env=False) as client:
            answer = (await client.get(f"http://{literal}:{port}/healthz")).json()
    except (httpx2.HTTPError, ValueError, OSError):
        return None
    if isinstance(answer, dict) and answer.get("status") == "ok" and "capabilities" in answer:
        return str(answer.get("version"))
    return None


async def port(ctx: Context) -> list[Finding]:
    if (skipped := _http_skip(ctx, "port")) is not None:
        return [skipped]
    assert ctx.settings is not None
    host, number = ctx.settings.http.host, ctx.settings.http.port
    if number == 0:
        return [ok("port", "port 0: the system picks a free one at start")]
    problem = _bind_problem(host, number)
    if problem is None:
        return [ok("port", f"{host}:{number} is free")]
    if isinstance(problem, socket.gaierror):
        return [fail("port", f"{host} does not resolve: {problem}", "correct [http] host")]
    if problem.errno == errno.EADDRINUSE:
        running = await _running_workbench(host, number)
        if running is not None:
            return [ok("port", f"{host}:{number} is in use by a running mcp-workbench {running} (this deployment?)")]
        return [
            fail(
                "port",
                f"{host}:{number} is in use by another program",
                "stop it, or choose another [http] port (or serve --port)",
            )
        ]
    return [
        fail(
            "port",
            f"{host}:{number} cannot be bound: {problem.strerror or problem}",
            "choose another [http] host or port (ports below 1024 need privileges)",
        )
    ]
