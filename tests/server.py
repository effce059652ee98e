"""A scriptable HTTP server on loopback, in a thread, for tests.

Routes map a path to a `Reply` (status, headers, body, optional drip/stall) or to a function that
gets the request handler and writes whatever it likes on the raw socket. Fixture files in
tests/fixtures/http describe themselves: an HTTP status line, headers, a blank line, the body
(the shape of feedparser's own test fixtures), loaded with `Reply.from_file`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drip: float = 0.0  # seconds between body bytes
    stall_headers: float = 0.0  # seconds to wait before sending anything
    etag: str | None = None  # honour If-None-Match with 304
    chunk: int = 1

    @classmethod
    def from_file(cls, name: str, **subst: str) -> Reply:
        raw = (FIXTURES / "http" / name).read_bytes()
        for key, value in subst.items():
            raw = raw.replace(("{" + key + "}").encode(), value.encode())
        head, _, body = raw.partition(b"\n\n")
        lines = head.decode("utf-8").splitlines()
        lines = [line for line in lines if not line.startswith("#")]  # fixture comments
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if line.strip())
        return cls(status=status, headers=headers, body=body)


Handler = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-request (deadlines, caps) are the point of many tests."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class TestServer:
    """`with TestServer() as s: s.route('/feed', Reply(...)); url = s.url('/feed')`."""

    __test__ = False

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posts: list[tuple[str, bytes]] = []
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per response

            def do_GET(self) -> None:
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    route = Reply(404, {"Content-Type": "text/plain"}, b"not found")
                if callable(route):
                    route(self)
                    return
                server._reply(self, route)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.posts.append((self.path, body))
                self.body = body  # for handler routes: the body is already read
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    route = Reply(404, {"Content-Type": "text/plain"}, b"no_service")
                if callable(route):
                    route(self)
                    return
                server._reply(self, route)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = _QuietServer((host, 0), _H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = host

    def _reply(self, h: BaseHTTPRequestHandler, r: Reply) -> None:
        try:
            if r.stall_headers:
                time.sleep(r.stall_headers)
            if r.etag and h.headers.get("If-None-Match") == r.etag:
                h.send_response(304)
                h.send_header("ETag", r.etag)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            h.send_response(r.status)
            headers = dict(r.headers)
            if r.etag:
                headers["ETag"] = r.etag
            headers.setdefault("Content-Length", str(len(r.body)))
            for key, value in headers.items():
                h.send_header(key, value)
            h.end_headers()
            if r.drip:
                for i in range(0, len(r.body), r.chunk):
                    h.wfile.write(r.body[i:i + r.chunk])
                    h.wfile.flush()
                    time.sleep(r.drip)
            else:
                h.wfile.write(r.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path: str, reply: Reply | Handler) -> str:
        self.routes[path] = reply
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p.split("?", 1)[0] == path)

    def __enter__(self) -> TestServer:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def drip_headers(seconds: float, interval: float = 0.2) -> Handler:
    """A handler that sends its status line and headers one byte at a time, forever-ish."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        data = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-Slow: " + b"a" * 1000
        deadline = time.monotonic() + seconds
        try:
            for byte in data:
                if time.monotonic() > deadline:
                    break
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(interval)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True

    return handler
