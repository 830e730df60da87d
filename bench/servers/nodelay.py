"""uvicorn workers, fixed, for the bare FastMCP echo server (``fastmcp-2-nodelay``, ``fastmcp-2-reuseport``).

These were the prototypes of the two fixes that ``mcp-workbench serve --workers N`` now has
built in (:mod:`mcp_workbench.cli.workers`); they stay here so the framework floor can be
measured with the same socket set-up as the product, and with uvicorn's default next to it.

1. TCP_NODELAY. uvicorn's ``Config.bind_socket`` makes the shared socket with
   ``socket.socket(family=...)``, protocol 0; asyncio's transports only set TCP_NODELAY when
   ``sock.proto == IPPROTO_TCP``, so in worker mode Nagle's algorithm stays on, and a response
   sent as two writes (headers, then body) waits for the peer's delayed ACK (~40 ms). Linux
   copies TCP_NODELAY from a listening socket to the sockets it accepts, so setting it once on
   the listening socket fixes every connection (:func:`run_workers`).
2. Balance. With one shared listening socket, the worker that wakes first accepts every
   pending connection in one go (asyncio accepts up to ``backlog`` per wake-up), so a handful of
   long-lived client connections all land on one worker. With SO_REUSEPORT each worker has its
   own listening socket on the same port and the kernel spreads connections across them
   (:func:`run_reuseport_workers`).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


class NoDelayConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run_workers(app: str, **options: Any) -> None:
    """What ``uvicorn.run(app, workers=N, ...)`` does, with TCP_NODELAY on the shared socket."""
    config = NoDelayConfig(app, **options)
    sock = config.bind_socket()
    Multiprocess(config, sockets=[sock]).run()


def _reuseport_worker(app: str, options: dict[str, Any]) -> None:
    config = uvicorn.Config(app, **{**options, "workers": 1})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((config.host, config.port))
    sock.listen(config.backlog)
    uvicorn.Server(config).run(sockets=[sock])


def run_reuseport_workers(app: str, workers: int, **options: Any) -> None:
    """``workers`` processes, each with its own SO_REUSEPORT listening socket (and TCP_NODELAY)."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_reuseport_worker, args=(app, options)) for _ in range(workers)]
    for process in processes:
        process.start()

    def stop(_signum: int, _frame: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
