"""The outlet simulator in a process of its own, driven over a pipe.

In the benchmarks the outlets must not share the measured process: the simulator's server
threads would compete with the monitor (and with the naive loop) for the GIL, and their time
would show up in the profile as the monitor's. Real outlets are other machines; here they are
another process on the same two cores, so their CPU still counts against the machine.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


def _serve(conn: Connection, make: Callable[[], Any]) -> None:
    sim = make().start()
    conn.send(sim.port)
    while True:
        message = conn.recv()
        if message is None:
            sim.stop()
            conn.send(None)
            return
        name, args = message
        conn.send(getattr(sim, name)(*args))


class RemoteSimulator:
    """`with RemoteSimulator(factory) as sim:` where `factory()` builds a Simulator (it must be
    picklable: a module-level function or a functools.partial of one). Exposes `outlets`,
    `feed_url`, `set_round` (returns the number published) and `article_pages`."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self.outlets = factory().outlets
        self.port = 0

    def __enter__(self) -> RemoteSimulator:
        # spawn, not forkserver: the monitor's worker pool must be the one to start the
        # forkserver, with its preloaded modules (else every worker imports trafilatura anew)
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, self._factory), daemon=True,
                                    name="outlet-simulator")
        self._process.start()
        child.close()
        self.port = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send(None)
        self._conn.recv()
        self._process.join(timeout=10)

    def _call(self, name: str, *args: Any) -> Any:
        self._conn.send((name, args))
        return self._conn.recv()

    def feed_url(self, outlet: Any) -> str:
        return str(self._call("feed_url", outlet))

    def set_round(self, number: int, now: Any = None) -> int:
        return len(self._call("set_round", number, now))

    def article_pages(self) -> list[tuple[str, bytes]]:
        return list(self._call("article_pages"))

    def pid(self) -> int:
        return int(self._process.pid or 0)
