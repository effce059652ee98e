"""The local outlet simulator: fictional outlets on 127.0.0.2, 127.0.0.3, ... over HTTP.

Linux routes all of 127.0.0.0/8 to loopback, so each outlet gets an address of its own and
per-host politeness behaves as on the real web. Responses are rendered once per round and kept
as bytes, so serving costs almost nothing. `set_round(n)` publishes everything scheduled up to
round n. Behaviours: RSS, Atom, a listing page without a feed, conditional requests (304),
gzip, a broken feed (HTML instead of XML, then 500, then garbage, then recovery), a slow outlet,
and an aggregator whose items point at other outlets' articles.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from monitor.demo import render
from monitor.demo.corpus import Piece, load_pieces
from monitor.demo.outlets import OUTLETS, Outlet

FEED_SIZE = 25


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    etag: str = ""
    last_modified: str = ""
    gzip_body: bytes | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], outlet: Outlet, sim: Simulator) -> None:
        self.outlet = outlet
        self.sim = sim
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stall

    def do_GET(self) -> None:
        outlet, sim = self.server.outlet, self.server.sim
        sim.count(outlet.id, self.path, conditional=bool(self.headers.get("If-None-Match")
                                                        or self.headers.get("If-Modified-Since")))
        is_feed = self.path.startswith("/feed") or self.path == "/"
        if outlet.delay:
            sim.sleep(outlet.delay if is_feed else outlet.delay / 4)
        if sim.latency:  # benchmarks: the same delay on every request, like a far-away server
            sim._stop.wait(sim.latency)
        response = sim.response(outlet, self.path)
        if (outlet.conditional and response.status == 200 and response.etag
                and self.headers.get("If-None-Match") == response.etag):
            self._send(304, response, b"", {})
            return
        body, extra = response.body, {}
        if response.gzip_body is not None and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body, extra = response.gzip_body, {"Content-Encoding": "gzip"}
        self._send(response.status, response, body, extra)

    def _send(self, status: int, r: Response, body: bytes, extra: dict[str, str]) -> None:
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", r.content_type)
        if r.etag:
            self.send_header("ETag", r.etag)
        if r.last_modified:
            self.send_header("Last-Modified", r.last_modified)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Simulator:
    """Serve the demo outlets. Use as a context manager or call start()/stop()."""

    def __init__(self, pieces: list[Piece] | None = None, port: int = 0,
                 outlets: tuple[Outlet, ...] = OUTLETS, slow: bool = True,
                 latency: float = 0.0,
                 article_renderer: Callable[..., str] = render.article_html) -> None:
        self.article_renderer = article_renderer
        self.pieces = pieces if pieces is not None else load_pieces()
        self.latency = latency
        self.outlets = outlets
        self._by_id = {o.id: o for o in outlets}
        self.port = port
        self.slow = slow
        self.round = 0
        self._published: dict[tuple[str, str], tuple[Piece, str, datetime]] = {}
        self._responses: dict[tuple[str, str], Response] = {}
        self._lock = threading.Lock()
        self._servers: list[_Server] = []
        self._stop = threading.Event()
        self.requests: dict[str, int] = {}
        self.conditional_requests: dict[str, int] = {}
        self.article_requests: dict[str, int] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Simulator:
        first = _Server((self.outlets[0].address, self.port), self.outlets[0], self)
        self.port = first.server_address[1]
        self._servers = [first] + [_Server((o.address, self.port), o, self)
                                   for o in self.outlets[1:]]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                             daemon=True, name=f"sim-{server.outlet.id}").start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sleep(self, seconds: float) -> None:
        if self.slow:
            self._stop.wait(seconds)

    def count(self, outlet: str, path: str, conditional: bool) -> None:
        with self._lock:
            self.requests[outlet] = self.requests.get(outlet, 0) + 1
            if conditional:
                self.conditional_requests[outlet] = self.conditional_requests.get(outlet, 0) + 1
            if path.split("?", 1)[0].endswith(".html"):
                self.article_requests[outlet] = self.article_requests.get(outlet, 0) + 1

    # -- content ---------------------------------------------------------------------------------

    def base(self, outlet: Outlet) -> str:
        return f"http://{outlet.address}:{self.port}"

    def feed_url(self, outlet: Outlet) -> str:
        path = {"rss": "/feed.xml", "atom": "/feed.atom", "page": "/latest",
                "aggregator": "/feed.xml"}[outlet.format]
        return self.base(outlet) + path

    def article_url(self, piece: Piece) -> str:
        outlet = self._by_id[piece.outlet]
        section = {"defection": "politics", "protest": "iran", "unrelated": "news"}[piece.kind]
        number = int(hashlib.sha1(f"{piece.outlet}/{piece.article_id}".encode()).hexdigest()[:6],
                     16) % 900000 + 100000
        return f"{self.base(outlet)}/{section}/2026/{piece.slug}-{number}.html"

    def set_round(self, number: int, now: datetime | None = None) -> list[Piece]:
        """Publish every piece scheduled up to round `number`; returns the newly published."""
        now = now or datetime.now(UTC)
        fresh = [p for p in self.pieces if self.round < p.round <= number]
        for i, piece in enumerate(fresh):
            published = (now - timedelta(minutes=len(fresh) - i)).replace(microsecond=0)
            self._published[(piece.outlet, piece.article_id)] = (
                piece, self.article_url(piece), published)
        self.round = number
        self._render(now.replace(microsecond=0))
        return fresh

    def published_on(self, outlet_id: str) -> list[tuple[Piece, str, datetime]]:
        items = [v for (o, _), v in self._published.items() if o == outlet_id]
        return sorted(items, key=lambda x: x[2], reverse=True)

    def article_pages(self) -> list[tuple[str, bytes]]:
        """(url, html) of every article page published so far (for benchmarks)."""
        with self._lock:
            return [(self.base(self._by_id[outlet]) + path, r.body)
                    for (outlet, path), r in self._responses.items() if path.endswith(".html")]

    def _render(self, now: datetime) -> None:
        responses: dict[tuple[str, str], Response] = {}
        for outlet in self.outlets:
            items = self.published_on(outlet.id)
            for index, (piece, url, published) in enumerate(items):
                path = url.split(str(self.port), 1)[1]
                key = (outlet.id, path)
                if key in self._responses:
                    responses[key] = self._responses[key]
                    continue
                related = [(u, p.headline) for p, u, _ in items[index + 1:index + 4]]
                html = self.article_renderer(outlet, piece, url, published, related)
                responses[key] = self._make(200, "text/html; charset=utf-8", html.encode(),
                                            published, outlet)
            responses[(outlet.id, "/robots.txt")] = self._make(
                200, "text/plain", b"User-agent: *\nAllow: /\n", now, outlet)
            responses[(outlet.id, self.feed_url(outlet).split(str(self.port), 1)[1])] = \
                self._feed(outlet, items[:FEED_SIZE], now)
        with self._lock:
            self._responses = responses

    def _feed(self, outlet: Outlet, items: list[tuple[Piece, str, datetime]],
              now: datetime) -> Response:
        base = self.base(outlet)
        if outlet.broken and self.round < 4:
            broken = {
                1: (200, "application/rss+xml", b"<html><body><h1>Site maintenance</h1>"
                    b"<p>Back soon.</p></body></html>"),
                2: (500, "text/plain", b"Internal Server Error"),
                3: (200, "application/rss+xml", b"\x00\x9f\x92garbage<<<rss"),
            }[max(1, self.round)]
            return Response(broken[0], broken[1], broken[2])
        if outlet.format == "atom":
            text = render.atom(outlet, base, items, now)
            return self._make(200, "application/atom+xml; charset=utf-8", text.encode(), now,
                              outlet)
        if outlet.format == "page":
            text = render.listing(outlet, items)
            return self._make(200, "text/html; charset=utf-8", text.encode(), now, outlet)
        if outlet.format == "aggregator":
            picked = [x for o in self.outlets if o.language == "en" and o.format != "aggregator"
                      for x in self.published_on(o.id) if x[0].kind == "defection"]
            picked.sort(key=lambda x: x[2], reverse=True)
            sources = {o.id: (o.name, self.base(o) + "/") for o in self.outlets}
            text = render.rss(outlet, base, picked[:FEED_SIZE], sources)
            return self._make(200, "application/rss+xml; charset=utf-8", text.encode(), now,
                              outlet)
        text = render.rss(outlet, base, items, None)
        return self._make(200, "application/rss+xml; charset=utf-8", text.encode(), now, outlet)

    def _make(self, status: int, content_type: str, body: bytes, modified: datetime,
              outlet: Outlet) -> Response:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        zipped = gzip.compress(body, 6) if outlet.id in ("gulf-observer", "persian-herald") \
            else None
        return Response(status, content_type, body, etag, format_datetime(modified, usegmt=True),
                        zipped)

    def response(self, outlet: Outlet, path: str) -> Response:
        path = path.split("?", 1)[0]
        with self._lock:
            found = self._responses.get((outlet.id, path))
        return found or Response(404, "text/plain", b"Not Found")
