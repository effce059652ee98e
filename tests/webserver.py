"""The reader served for real on 127.0.0.1 (uvicorn in a thread), for tests and screenshots."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from monitor.web.app import ReaderConfig, create_app


@contextmanager
def serve_reader(config: ReaderConfig) -> Iterator[str]:
    """Yield the base URL ("http://127.0.0.1:PORT") of a running reader; stop it afterwards."""
    # uvicorn binds the port itself (port 0: any free one): a socket handed in through
    # `sockets=` lost TCP_NODELAY here, and every response then waited ~40 ms for an ACK
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the reader did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
