"""The one HTTP client: address guard, deadlines, size caps, bounded decompression, redirects.

* **Address guard at connect time** (`monitor.fetching.network.GuardedBackend`): every
  connection of every redirect hop goes to an address the guard vetted after resolving the
  name itself.
* **A total deadline that also bounds header drip-feeds.** The end of the current fetch lives
  in a context variable (`monitor.fetching.network.fetch_deadline`); the backend's streams
  clamp every read/write/connect timeout to it. The request then ends with httpcore's own
  clean timeout, no task cancellation, so the pool never leaks slots (encode/httpcore#1093).
  A last-resort `asyncio.timeout` a little past the deadline recycles the whole client if it
  ever fires.
* **Caps.** Wire bytes are counted over `aiter_raw()`; decompression is ours and bounded per
  layer, so `Content-Encoding: gzip, gzip` bombs stop at the decoded cap. Only gzip and deflate
  are advertised.
* Redirects are followed by hand (at most `max_redirects`, http(s) only, loops refused);
  conditional GET with ETag / Last-Modified; 304 is a value (`Fetched.not_modified`).
* httpx's request logging (which prints URLs with their secrets) is silenced.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from monitor.errors import (
    FOREIGN_URL_ERRORS,
    BodyTooLarge,
    DeadlineExceeded,
    FetchError,
    HTTPStatusError,
    InvalidURL,
    NetworkError,
    TooManyRedirects,
)
from monitor.fetching.network import (
    KEEPALIVE,
    AddressGuard,
    GuardedBackend,
    PerOriginTransport,
    fetch_deadline,
)
from monitor.fetching.urlcheck import url_problem

if TYPE_CHECKING:  # the settings import the channels, which import this module
    from monitor.configuration.settings import FetchSettings

for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

REDIRECT_CODES = (301, 302, 303, 307, 308)


# -- bounded decompression ----------------------------------------------------------------------


class _Layer:
    """One content-encoding layer, streaming, never producing more than it is asked for."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self.d = zlib.decompressobj(self.wbits)
        self.first = True

    def feed(self, data: bytes, budget: int) -> bytes:
        out = bytearray()
        while data:
            try:
                chunk = self.d.decompress(data, budget + 1 - len(out))
            except zlib.error:
                if self.first and self.encoding == "deflate":  # raw deflate without zlib header
                    self.d = zlib.decompressobj(-zlib.MAX_WBITS)
                    self.first = False
                    continue
                raise BodyTooLarge(f"corrupt {self.encoding} body") from None
            self.first = False
            out += chunk
            if len(out) > budget or self.d.unconsumed_tail:
                raise BodyTooLarge("decoded body over the size cap")
            if self.d.eof and self.d.unused_data:  # concatenated gzip members
                data = self.d.unused_data
                self.d = zlib.decompressobj(self.wbits)
            else:
                data = b""
        return bytes(out)


class BoundedDecoder:
    """Undo `Content-Encoding` (possibly stacked) with a cap on every layer's output."""

    SUPPORTED = frozenset({"gzip", "x-gzip", "deflate", "identity"})

    def __init__(self, header: str | None, limit: int) -> None:
        names = [e.strip().lower() for e in (header or "").split(",") if e.strip()]
        unknown = [e for e in names if e not in self.SUPPORTED]
        if unknown:
            raise NetworkError(f"unsupported content-encoding {unknown[0]!r}")
        self.layers = [_Layer(e) for e in reversed(names) if e != "identity"]
        self.limit = limit
        self.total = 0

    def feed(self, data: bytes) -> bytes:
        for layer in self.layers:
            data = layer.feed(data, self.limit - self.total)
        self.total += len(data)
        if self.total > self.limit:
            raise BodyTooLarge("decoded body over the size cap")
        return data


# -- the fetcher --------------------------------------------------------------------------------


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, asked to read a response's cookies only when it sets some: the
    standard library's extraction wraps every response and request even when there is none to
    read (a tenth of the client's CPU per small page). Nothing else differs."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


@dataclass(frozen=True)
class Fetched:
    """A completed fetch. `not_modified` marks a 304 answer (no body)."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    not_modified: bool
    duration_ms: int
    wire_bytes: int
    redirects: tuple[str, ...] = field(default=())
    conditional: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), at most 1 day."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true, float("²") raises
        return 86400.0 if len(value) > 9 else min(float(value), 86400.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), 86400.0)


def describe(url: str) -> str:
    """A URL safe to show in messages: scheme://host/path, no credentials, no query string."""
    try:
        p = urlsplit(url)
        host = p.hostname or ""
        port = f":{p.port}" if p.port else ""
        return f"{p.scheme}://{host}{port}{p.path}"
    except ValueError:
        return "<invalid url>"


class Fetcher:
    """One `httpx.AsyncClient` shared by every fetch of the daemon."""

    def __init__(self, settings: FetchSettings, *, guard: AddressGuard | None = None,
                 proxy: str | None = None) -> None:
        self.settings = settings
        self.guard = guard if guard is not None else AddressGuard(settings.allow_networks)
        self._proxy = proxy
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._host_next: dict[str, float] = {}  # earliest start of the next request per host
        self.client = self._new_client()
        self.recycled = 0

    def _new_client(self) -> httpx.AsyncClient:
        s = self.settings
        timeout = httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout,
                                write=s.read_timeout, pool=s.deadline)
        ssl_context = httpx.create_ssl_context()

        def pool_args(connections: int) -> dict[str, Any]:
            return {"ssl_context": ssl_context, "max_connections": connections,
                    "max_keepalive_connections": connections, "keepalive_expiry": KEEPALIVE,
                    "http1": True, "http2": False, "retries": 0,
                    "network_backend": GuardedBackend(self.guard)}  # guard + deadline clamp

        transport: httpx.AsyncBaseTransport
        if self._proxy:  # the guard then vets the proxy's address, not the sites behind it
            transport = httpx.AsyncHTTPTransport(verify=ssl_context, retries=0)
            transport._pool = httpcore.AsyncHTTPProxy(proxy_url=self._proxy,
                                                      **pool_args(100))
        else:
            def one_host() -> httpx.AsyncHTTPTransport:
                # the shared context: building one per host costs ~20 ms of certificate loading
                t = httpx.AsyncHTTPTransport(verify=ssl_context, retries=0)
                # the host slot is held for the first host of a fetch only: redirects from
                # other hosts may bring more requests, so the pool itself does not queue them
                args = pool_args(s.per_host_concurrency * (1 + s.max_redirects))
                args["max_keepalive_connections"] = s.per_host_concurrency
                t._pool = httpcore.AsyncConnectionPool(**args)
                return t
            transport = PerOriginTransport(one_host, idle_after=2 * KEEPALIVE)
        client = httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False, trust_env=False,
            headers={"User-Agent": s.user_agent_header, "Accept-Encoding": "gzip, deflate"},
        )
        client._cookies = _Cookies()  # the `cookies` setter would wrap it in a plain jar
        return client

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _recycle(self) -> None:
        old, self.client = self.client, self._new_client()
        self.recycled += 1
        # closing a client in a bad state must not mask the real error
        with contextlib.suppress(Exception):
            await old.aclose()

    async def _space(self, host: str) -> None:
        """Keep `host_spacing` between the starts of requests to one host name."""
        spacing = self.settings.host_spacing
        if spacing <= 0:
            return
        now = time.monotonic()
        start = max(now, self._host_next.get(host, 0.0))
        self._host_next[host] = start + spacing
        if start > now:
            await asyncio.sleep(start - now)

    def _slot(self, host: str) -> asyncio.Semaphore:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self.settings.per_host_concurrency)
        return slot

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = "*/*") -> Fetched:
        """GET `url`; returns `Fetched` (200 or 304) or raises a `FetchError`."""
        parts = _checked(url)
        async with self._slot(parts.hostname or ""):
            await self._space(parts.hostname or "")
            started = time.monotonic()
            token = fetch_deadline.set(started + self.settings.deadline)
            try:
                async with asyncio.timeout(self.settings.deadline + 2.0):
                    return await self._follow(url, etag, last_modified, accept, started)
            except TimeoutError:
                # only reached if a clamp was bypassed; cancellation may leak pool slots
                await self._recycle()
                raise DeadlineExceeded(
                    f"no complete answer within {self.settings.deadline:g}s") from None
            finally:
                fetch_deadline.reset(token)

    async def _follow(self, url: str, etag: str | None, last_modified: str | None, accept: str,
                      started: float) -> Fetched:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        conditional = bool(etag or last_modified)
        hops: list[str] = []
        current = url
        while True:
            try:
                async with self.client.stream("GET", current, headers=headers) as resp:
                    if resp.status_code in REDIRECT_CODES:
                        current = self._next_hop(current, resp, hops)
                        continue
                    return await self._complete(url, current, resp, started, hops, conditional)
            except FetchError:
                raise
            except httpx.TimeoutException:
                raise DeadlineExceeded(self._timeout_message(started)) from None
            except httpx.RemoteProtocolError as exc:
                if "location header" in str(exc).lower():  # httpx parses Location itself
                    raise InvalidURL(f"redirect to an invalid URL (the Location header of "
                                     f"{describe(current)} cannot be parsed)") from None
                raise NetworkError(_network_message(exc, current)) from None
            except httpx.HTTPError as exc:
                raise NetworkError(_network_message(exc, current)) from None
            except FOREIGN_URL_ERRORS as exc:  # whatever a URL the checks let by still raised
                raise InvalidURL(f"invalid URL ({type(exc).__name__}, a host name that is not "
                                 f"valid IDNA?) reached from {describe(current)}") from None

    def _next_hop(self, current: str, resp: httpx.Response, hops: list[str]) -> str:
        location: str | None = resp.headers.get("location")
        if not location:
            raise HTTPStatusError(resp.status_code,
                                  f"HTTP {resp.status_code} redirect without a Location header")
        target = urljoin(current, location.strip())
        _checked(target)
        hops.append(target)
        if len(hops) > self.settings.max_redirects:
            raise TooManyRedirects(f"more than {self.settings.max_redirects} redirects")
        if target == current or target in hops[:-1]:
            raise TooManyRedirects(f"redirect loop at {describe(target)}")
        return target

    async def _complete(self, url: str, final: str, resp: httpx.Response, started: float,
                        hops: list[str], conditional: bool) -> Fetched:
        headers = {k.lower(): v for k, v in resp.headers.items()}
        status = resp.status_code
        if status == 304:
            # a 304 has no body (h11 reads none whatever the headers say), but the response
            # must be read to its end, or the connection is closed instead of kept alive:
            # every conditional poll paid a new TCP connection and the address guard's checks
            await resp.aread()
            return Fetched(url, final, 304, headers, b"", True, _ms(started), 0, tuple(hops),
                           conditional)
        if status >= 400 or status < 200:
            reason = resp.reason_phrase or ""
            raise HTTPStatusError(status, f"HTTP {status} {reason}".strip(),
                                  parse_retry_after(headers.get("retry-after")))
        if status >= 300:  # 300, 305, 306...: not a body, and not a redirect we can follow
            raise HTTPStatusError(status, f"HTTP {status} {resp.reason_phrase or ''}: a "
                                  f"redirection this client does not follow; point the "
                                  f"source at the document's own URL".replace("  ", " "))
        body, wire = await self._read_body(resp, headers)
        return Fetched(url, final, status, headers, body, False, _ms(started), wire, tuple(hops),
                       conditional)

    async def _read_body(self, resp: httpx.Response, headers: dict[str, str]) -> tuple[bytes, int]:
        s = self.settings
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared[:30]) > s.max_wire_bytes:
            raise BodyTooLarge(f"declared body of {declared[:30]} bytes is over the "
                               f"{s.max_wire_bytes}-byte cap")
        decoder = BoundedDecoder(headers.get("content-encoding"), s.max_decoded_bytes)
        parts: list[bytes] = []
        wire = 0
        async for chunk in resp.aiter_raw():
            wire += len(chunk)
            if wire > s.max_wire_bytes:
                raise BodyTooLarge(f"body over the {s.max_wire_bytes}-byte cap")
            parts.append(decoder.feed(chunk))
        return b"".join(parts), wire

    def _timeout_message(self, started: float) -> str:
        elapsed = time.monotonic() - started
        if elapsed >= self.settings.deadline - 0.05:
            return f"no complete answer within the {self.settings.deadline:g}s deadline"
        return f"timed out after {elapsed:.1f}s"


def _checked(url: str) -> Any:
    problem = url_problem(url)
    if problem is not None:
        raise InvalidURL(problem)
    return urlsplit(url)


def _network_message(exc: Exception, url: str) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{text} ({describe(url)})"[:300]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def host_semaphores_in_use(fetcher: Fetcher) -> Sequence[str]:
    """Hosts with a request in flight (for diagnostics and tests)."""
    return [h for h, s in fetcher._host_slots.items() if s.locked()]
