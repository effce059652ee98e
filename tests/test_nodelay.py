"""Every HTTP server of the tests, the benchmarks and the demo sends with TCP_NODELAY.

`BaseHTTPRequestHandler` writes the headers and the body of a response as separate segments;
with Nagle's algorithm on and the client's delayed ACK, each keep-alive response then waits
about 40 ms, which slowed every sequential baseline (issue 19). Nothing here is timed: the
handler classes are found in the source and checked, and one accepted socket is asked."""

from __future__ import annotations

import ast
import socket
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.conftest import REPO
from tests.server import TestServer

FOLDERS = ("monitor", "tests", "benchmarks")


def _handler_classes() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                        isinstance(b, ast.Name) and b.id == "BaseHTTPRequestHandler"
                        for b in node.bases):
                    found.append((f"{Path(path).relative_to(REPO)}:{node.name}", node))
    return found


def _sets_nodelay(node: ast.ClassDef) -> bool:
    return any(isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
               and stmt.value.value is True
               and any(isinstance(t, ast.Name) and t.id == "disable_nagle_algorithm"
                       for t in stmt.targets)
               for stmt in node.body)


def test_every_handler_class_in_the_repository_disables_nagle() -> None:
    classes = _handler_classes()
    names = {name.split(":")[0] for name, _ in classes}
    # the servers the benchmarks, the demo and the tests run on are all seen by the scan
    assert {"monitor/demo/simulator.py", "tests/server.py", "benchmarks/steady_state.py",
            "tests/test_http.py"} <= names
    assert [name for name, node in classes if not _sets_nodelay(node)] == []


def test_the_simulators_servers_use_a_nodelay_handler() -> None:
    from monitor.demo.simulator import Simulator

    with Simulator(slow=False) as sim:
        handlers = {server.RequestHandlerClass for server in sim._servers}
    assert handlers and all(issubclass(h, BaseHTTPRequestHandler) for h in handlers)
    assert all(h.disable_nagle_algorithm for h in handlers)


def test_the_test_servers_accepted_socket_has_tcp_nodelay() -> None:
    seen: list[int] = []

    def answer(h: BaseHTTPRequestHandler) -> None:
        seen.append(h.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        h.send_response(200)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")

    with TestServer() as server:
        server.route("/n", answer)
        with urllib.request.urlopen(server.url("/n"), timeout=5) as reply:
            assert reply.read() == b"ok"
    assert len(seen) == 1 and seen[0] != 0
