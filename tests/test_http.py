"""The HTTP client against real loopback servers: guard, deadlines, caps, redirects, 304."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from monitor.configuration.settings import FetchSettings
from monitor.errors import (
    BlockedAddress,
    BodyTooLarge,
    DeadlineExceeded,
    HTTPStatusError,
    InvalidURL,
    NetworkError,
    TooManyRedirects,
)
from monitor.fetching.http import BoundedDecoder, Fetcher, parse_retry_after
from monitor.fetching.network import AddressGuard, PerOriginTransport
from tests.server import Reply, TestServer, drip_headers

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def settings(**overrides: Any) -> FetchSettings:
    base: dict[str, Any] = dict(
        user_agent="feed-monitor-test/1", contact_url="https://example.invalid/contact",
        connect_timeout=1.0, read_timeout=1.0, deadline=2.0, max_wire_bytes=1 << 20,
        max_decoded_bytes=4 << 20, max_redirects=5, per_host_concurrency=2,
        allow_networks=LOOPBACK, host_spacing=0.0, proxy="")
    base.update(overrides)
    return FetchSettings(**base)


def run(fn: Callable[[Fetcher], Awaitable[Any]], **overrides: Any) -> Any:
    async def main() -> Any:
        fetcher = Fetcher(settings(**overrides))
        try:
            return await fn(fetcher)
        finally:
            await fetcher.aclose()

    return asyncio.run(main())


def test_plain_fetch_sends_user_agent_and_advertised_encodings(server: TestServer) -> None:
    url = server.route("/a", Reply(200, {"Content-Type": "text/plain"}, b"hello"))
    got = run(lambda f: f.fetch(url))
    assert got.body == b"hello" and got.status == 200 and not got.not_modified
    headers = server.requests[-1][1]
    assert headers["user-agent"] == "feed-monitor-test/1 (+https://example.invalid/contact)"
    assert headers["accept-encoding"] == "gzip, deflate"


def test_cookies_a_site_sets_are_sent_back(server: TestServer) -> None:
    """The client reads Set-Cookie (and only bothers when a response has one)."""
    plain = server.route("/plain", Reply(200, {}, b"x"))
    setter = server.route("/set", Reply(200, {"Set-Cookie": "consent=yes; Path=/"}, b"y"))

    async def three(f: Fetcher) -> None:
        await f.fetch(plain)
        await f.fetch(setter)
        await f.fetch(plain)

    run(three)
    assert [h.get("cookie") for _, h in server.requests] == [None, None, "consent=yes"]


def test_conditional_get_gives_304_as_a_value(server: TestServer) -> None:
    url = server.route("/feed", Reply(200, {}, b"<rss/>", etag='"v1"'))
    got = run(lambda f: f.fetch(url, etag='"v1"'))
    assert got.not_modified and got.status == 304 and got.conditional
    assert server.requests[-1][1]["if-none-match"] == '"v1"'


def test_a_304_leaves_its_connection_open_for_the_next_poll(server: TestServer) -> None:
    ports: list[int] = []

    def not_modified(h: Any) -> None:
        ports.append(h.client_address[1])
        h.send_response(304)
        h.send_header("ETag", '"v1"')
        h.send_header("Content-Length", "0")
        h.end_headers()

    url = server.route("/feed", not_modified)

    async def go(f: Fetcher) -> list[bool]:
        return [(await f.fetch(url, etag='"v1"')).not_modified for _ in range(3)]

    assert run(go) == [True, True, True]
    assert len(set(ports)) == 1  # one connection: each 304 was read to its end and kept


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_error_status_is_an_error_with_its_code(server: TestServer, status: int) -> None:
    url = server.route("/x", Reply(status, {"Retry-After": "120"}, b"no"))
    with pytest.raises(HTTPStatusError) as info:
        run(lambda f: f.fetch(url))
    assert info.value.status == status and info.value.retry_after == 120


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert parse_retry_after("soon") is None


def test_connection_refused_is_a_network_error() -> None:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(NetworkError, match="refused"):
        run(lambda f: f.fetch(f"http://127.0.0.1:{port}/"))


def test_body_drip_is_bounded_by_the_total_deadline(server: TestServer) -> None:
    url = server.route("/drip", Reply(200, {}, b"x" * 100, drip=0.2))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        run(lambda f: f.fetch(url), deadline=1.0)
    assert time.monotonic() - started < 2.5


def test_header_drip_is_bounded_by_the_total_deadline(server: TestServer) -> None:
    url = server.route("/hdrip", drip_headers(seconds=6, interval=0.1))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        run(lambda f: f.fetch(url), deadline=1.0, read_timeout=5.0)
    assert time.monotonic() - started < 2.5


def test_stall_after_connect_times_out(server: TestServer) -> None:
    url = server.route("/stall", Reply(200, {}, b"late", stall_headers=3))
    with pytest.raises(DeadlineExceeded):
        run(lambda f: f.fetch(url), deadline=5.0, read_timeout=0.5)


def test_body_over_wire_cap(server: TestServer) -> None:
    url = server.route("/big", Reply(200, {}, b"x" * 5000))
    with pytest.raises(BodyTooLarge):
        run(lambda f: f.fetch(url), max_wire_bytes=1000)


def test_lying_content_length_over_cap_refused_early(server: TestServer) -> None:
    url = server.route("/lie", Reply(200, {"Content-Length": "999999999"}, b"x"))
    with pytest.raises(BodyTooLarge):
        run(lambda f: f.fetch(url), max_wire_bytes=1000)


def _bomb(layers: int, size: int) -> bytes:
    data = b"\0" * size
    for _ in range(layers):
        data = gzip.compress(data, 9)
    return data


def test_double_gzip_bomb_stops_at_the_decoded_cap(server: TestServer) -> None:
    body = _bomb(2, 64 << 20)  # 64 MiB of zeros in a few KB
    assert len(body) < 100_000
    url = server.route("/bomb", Reply(200, {"Content-Encoding": "gzip, gzip"}, body))
    with pytest.raises(BodyTooLarge):
        run(lambda f: f.fetch(url), max_decoded_bytes=1 << 20)


def test_gzip_and_deflate_bodies_decode(server: TestServer) -> None:
    url = server.route("/gz", Reply(200, {"Content-Encoding": "gzip"}, gzip.compress(b"hi" * 50)))
    assert run(lambda f: f.fetch(url)).body == b"hi" * 50
    raw = zlib.compressobj(wbits=-15)
    deflated = raw.compress(b"raw deflate") + raw.flush()
    url2 = server.route("/rawdeflate", Reply(200, {"Content-Encoding": "deflate"}, deflated))
    assert run(lambda f: f.fetch(url2)).body == b"raw deflate"


def test_decoder_refuses_unknown_encoding() -> None:
    with pytest.raises(NetworkError, match="unsupported content-encoding"):
        BoundedDecoder("br", 100)


def test_redirects_followed_counted_and_loops_refused(server: TestServer) -> None:
    server.route("/r1", Reply(301, {"Location": "/r2"}))
    server.route("/r2", Reply(302, {"Location": server.url("/final")}))
    server.route("/final", Reply(200, {}, b"done"))
    got = run(lambda f: f.fetch(server.url("/r1")))
    assert got.body == b"done" and got.final_url == server.url("/final")
    server.route("/loop", Reply(301, {"Location": "/loop2"}))
    server.route("/loop2", Reply(301, {"Location": "/loop"}))
    with pytest.raises(TooManyRedirects):
        run(lambda f: f.fetch(server.url("/loop")))
    for i in range(7):
        server.route(f"/c{i}", Reply(302, {"Location": f"/c{i + 1}"}))
    with pytest.raises(TooManyRedirects):
        run(lambda f: f.fetch(server.url("/c0")))


def test_redirect_without_location(server: TestServer) -> None:
    url = server.route("/nolocation", Reply(302, {}))
    with pytest.raises(HTTPStatusError, match="without a Location"):
        run(lambda f: f.fetch(url))


def test_redirect_to_other_scheme_refused(server: TestServer) -> None:
    url = server.route("/tofile", Reply(302, {"Location": "file:///etc/passwd"}))
    with pytest.raises(InvalidURL):
        run(lambda f: f.fetch(url))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x.org/", "gopher://x.org/",
                                 "data:text/plain,hi", "javascript:alert(1)"])
def test_non_http_schemes_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        run(lambda f: f.fetch(url))


# -- the address guard, with nothing allowed (loopback counts as forbidden) --------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0", "2130706433",
                                  "0x7f000001", "[::ffff:127.0.0.1]", "[::1]", "127.1"])
def test_guard_refuses_loopback_in_every_spelling(server: TestServer, host: str) -> None:
    url = f"http://{host}:{server.port}/a"
    server.route("/a", Reply(200, {}, b"secret"))
    with pytest.raises((BlockedAddress, NetworkError)) as info:
        run(lambda f: f.fetch(url), allow_networks=())
    assert "secret" not in str(info.value)
    assert not server.requests  # the request never reached the server


def test_guard_refuses_redirect_into_loopback(server: TestServer) -> None:
    server.route("/go", Reply(302, {"Location": server.url("/inside")}))
    server.route("/inside", Reply(200, {}, b"secret"))
    # only 127.0.0.2 (the first hop) is allowed; the redirect points at 127.0.0.1
    with TestServer(host="127.0.0.2") as outer:
        outer.route("/go", Reply(302, {"Location": server.url("/inside")}))
        with pytest.raises(BlockedAddress):
            run(lambda f: f.fetch(outer.url("/go")),
                allow_networks=(ipaddress.ip_network("127.0.0.2/32"),))
    assert server.hits("/inside") == 0


@pytest.mark.parametrize("ip", ["10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                                "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1",
                                "::ffff:10.0.0.1", "64:ff9b::a00:1", "224.0.0.1", "240.0.0.1"])
def test_guard_classifies_private_ranges(ip: str) -> None:
    assert not AddressGuard().permits(ipaddress.ip_address(ip))


@pytest.mark.parametrize("ip", ["93.184.216.34", "2606:2800:220:1::1", "::ffff:8.8.8.8"])
def test_guard_permits_public_addresses(ip: str) -> None:
    assert AddressGuard().permits(ipaddress.ip_address(ip))


def test_hostname_resolving_to_private_address_is_refused(server: TestServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A DNS name that points inside: resolution is the one seam we replace (no DNS here)."""
    from monitor.fetching import network

    async def fake_resolve(self: Any, host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("127.0.0.1")] if host == "evil.example" else []

    monkeypatch.setattr(network.GuardedBackend, "resolve", fake_resolve)
    with pytest.raises(BlockedAddress, match=r"evil\.example"):
        run(lambda f: f.fetch(f"http://evil.example:{server.port}/"), allow_networks=())


def test_per_host_concurrency_limit(server: TestServer) -> None:
    server.route("/slow", Reply(200, {}, b"x", stall_headers=0.3))

    async def go(f: Fetcher) -> float:
        started = time.monotonic()
        await asyncio.gather(*(f.fetch(server.url("/slow")) for _ in range(4)))
        return time.monotonic() - started

    elapsed = run(go, per_host_concurrency=1, deadline=5.0)
    assert elapsed >= 1.1  # four requests, one at a time, 0.3 s each


def test_client_survives_many_deadline_failures(server: TestServer) -> None:
    """Deadlines end requests without cancellation, so the pool keeps working afterwards."""
    server.route("/stall", Reply(200, {}, b"late", stall_headers=1.0))
    server.route("/ok", Reply(200, {}, b"fine"))

    async def go(f: Fetcher) -> bytes:
        results = await asyncio.gather(*(f.fetch(server.url("/stall")) for _ in range(20)),
                                       return_exceptions=True)
        assert all(isinstance(r, DeadlineExceeded) for r in results)
        return (await f.fetch(server.url("/ok"))).body

    assert run(go, deadline=0.3, per_host_concurrency=20) == b"fine"


def test_untrusted_tls_certificate_is_a_network_error() -> None:
    """A server whose certificate no CA vouches for (our self-signed test certificate)."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path

    tls = Path(__file__).parent / "fixtures" / "tls"

    class H(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls / "test-cert.pem", tls / "test-key.pem")
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(NetworkError, match=r"(?i)certificate"):
            run(lambda f: f.fetch(f"https://127.0.0.1:{httpd.server_address[1]}/feed"))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_pool_per_origin_reused_and_idle_pools_closed() -> None:
    """Connections are pooled per origin (httpcore's shared pool scans every connection for
    every request); a pool unused for `idle_after` with nothing in flight is closed."""
    with TestServer("127.0.0.1") as a, TestServer("127.0.0.2") as b, \
            TestServer("127.0.0.3") as c:
        servers = [a, b, c]
        urls = [s.route("/a", Reply(200, {"Content-Type": "text/plain"}, b"ok")) for s in servers]

        async def go(fetcher: Fetcher) -> tuple[int, int, int]:
            transport = fetcher.client._transport
            assert isinstance(transport, PerOriginTransport)
            for url in urls * 3:
                assert (await fetcher.fetch(url)).body == b"ok"
            pools = len(transport)
            transport._idle_after = 0.05
            await asyncio.sleep(0.1)
            await fetcher.fetch(urls[0])  # sweeps the two idle ones (and this one's old pool)
            return pools, len(transport), sum(len(s.requests) for s in servers)

        pools, after_sweep, requests = run(go)
        assert pools == 3 and after_sweep == 1 and requests == 10
