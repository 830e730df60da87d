"""Real server subprocesses for tests: ``python -m mcp_workbench serve --transport http``,
and API keys made with the real CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from tests.support.waiting import wait_until

SERVE = [sys.executable, "-m", "mcp_workbench", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_") or k.startswith("WORKBENCH_TEST_")}
    env["WORKBENCH_DATA_DIR"] = str(data_dir)
    env["XDG_CONFIG_HOME"] = str(data_dir / "xdg")
    env.update(extra or {})
    return env


@contextmanager
def serving_in_thread(app: Any) -> Iterator[int]:
    """An ASGI app served by uvicorn on a free loopback port in this process (its lifespan run),
    for the length of the block; yields the port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # uvicorn offers no event to wait on; a thread that ended has failed to start
    wait_until(lambda: server.started or not thread.is_alive(), "uvicorn has started")
    assert server.started, "the server did not start"
    try:
        yield server.config.port
    finally:
        server.should_exit = True
        thread.join(30)


@contextmanager
def running(servers: Iterable[HttpServer]) -> Iterator[None]:
    """Every server started at once (their start-ups overlap) for the length of the block, and
    stopped after it; each one's exit status is then in ``server.proc.returncode``."""
    servers = list(servers)
    with ThreadPoolExecutor(len(servers)) as pool:
        starts = [pool.submit(server.start) for server in servers]
    try:
        for start in starts:
            start.result()
        yield
    finally:
        for server in servers:
            if server.proc is not None:
                server.stop()


def create_key(data_dir: Path, scopes: str, name: str = "test") -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "keys", "create", "--name", name, "--scopes", scopes],
        env=clean_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return proc.stdout.strip().splitlines()[-1]


@dataclass
class HttpServer:
    """A running `serve --transport http` subprocess; stop() returns its stdout and stderr."""

    args: list[str]
    data_dir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    _stdout: list[str] = field(default_factory=list)
    _stderr: list[str] = field(default_factory=list)
    _drains: list[threading.Thread] = field(default_factory=list)
    _logged: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def start(self, timeout: float = 30.0) -> HttpServer:
        self.proc = subprocess.Popen(
            [*SERVE, "--transport", "http", "--port", str(self.port), *self.args],
            env=clean_env(self.data_dir, self.env_extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Read both pipes as they fill: a server that logs a lot must never block on a full pipe.
        for stream, into in ((self.proc.stdout, self._stdout), (self.proc.stderr, self._stderr)):
            assert stream is not None
            self._drains.append(threading.Thread(target=self._drain, args=(stream, into), daemon=True))
            self._drains[-1].start()
        proc = self.proc

        def stderr_when_exited() -> str:
            if proc.poll() is not None:
                for drain in self._drains:
                    drain.join(timeout)
            return self.stderr_text()

        try:
            wait_until(
                lambda: get(f"{self.base}/livez")[0] == 200,
                "the server answers /livez",
                timeout_s=timeout,
                process=proc,
                ignore=(OSError,),
                explain=stderr_when_exited,
            )
        except AssertionError:
            proc.kill()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> tuple[int, str, str]:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout)
        for drain in self._drains:
            drain.join(timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode, "".join(self._stdout), self.stderr_text()

    def stderr_text(self) -> str:
        """What the server has written to stderr so far."""
        return "".join(self._stderr)

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        """Block until a stderr line contains ``text``; fail after ``timeout`` seconds."""
        with self._logged:
            found = self._logged.wait_for(lambda: any(text in line for line in self._stderr), timeout)
        assert found, f"the server did not log {text!r} within {timeout} s"

    def _drain(self, stream: Any, into: list[str]) -> None:
        for line in stream:
            with self._logged:
                into.append(line)
                self._logged.notify_all()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return request("GET", url, headers=headers)


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return raw_request(method, url, json.dumps(body).encode() if body is not None else None, headers)


def raw_request(
    method: str, url: str, data: bytes | None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """A request whose body is sent byte for byte (malformed JSON included)."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:  # its response is open until closed
            return error.code, _lower(error.headers), error.read()


def _lower(headers: Any) -> dict[str, str]:
    """Header names lower-cased: servers differ in the case they send."""
    return {name.lower(): value for name, value in headers.items()}
