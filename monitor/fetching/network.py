"""The network layer under the one HTTP client: the address guard, the deadline clamp, pools.

* **Address guard at connect time.** `GuardedBackend` is an httpcore network backend: it resolves
  the host itself, refuses any address that is not globally routable (loopback, private,
  link-local, CGNAT, multicast, reserved, IPv4-mapped/NAT64 forms of those) unless an allowed
  range covers it, then connects to the vetted IP. Because every connection of every redirect
  hop goes through it, string tricks (decimal/hex IPs, DNS names pointing inside) do not help.
* **The deadline clamp.** The end of the current fetch lives in the context variable
  `fetch_deadline` (set by `monitor.fetching.http.Fetcher`); the backend's streams clamp every
  read/write/connect timeout to it, so a request ends with httpcore's own clean timeout,
  never a cancellation.
* **One small connection pool per origin** (`PerOriginTransport`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import os
import select
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from monitor.errors import BlockedAddress
from monitor.fetching.addresses import is_public

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

fetch_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("fetch_deadline",
                                                                        default=None)


# -- the address guard --------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressGuard:
    """Which resolved addresses may be connected to. Empty `allow` means: public addresses only."""

    allow: tuple[Network, ...] = ()

    def permits(self, ip: IPAddress) -> bool:
        return is_public(ip, self.allow)  # the IANA registries, embedded IPv4 (addresses.py)

    def check(self, host: str, ip: IPAddress) -> None:
        if not self.permits(ip):
            raise BlockedAddress(f"refused to connect to {host}: {ip} is not a public address")


def _remaining() -> float | None:
    end = fetch_deadline.get()
    if end is None:
        return None
    return end - time.monotonic()


def _clamp(timeout: float | None) -> float | None:
    remaining = _remaining()
    if remaining is None:
        return timeout
    remaining = max(remaining, 0.001)
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.AsyncNetworkStream):
    """Wraps a network stream so every operation's timeout is clamped to the fetch deadline."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = None
        self._plain: bool | None = None  # no TLS layer: the socket's readability is the answer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout=_clamp(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout=_clamp(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            inner = await self._inner.start_tls(ssl_context, server_hostname=server_hostname,
                                                timeout=_clamp(timeout))
        except httpcore.ConnectError as exc:  # httpcore's own says only "ConnectError"
            raise httpcore.ConnectError(tls_failure(exc)) from exc
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # asked before every reuse of a pooled connection; anyio rebuilds its whole
            # attribute table on each lookup, so a plain socket is looked up once, polled here
            if self._plain is None:
                self._plain = self._inner.get_extra_info("ssl_object") is None
                self._socket = self._inner.get_extra_info("socket")
            if self._plain:
                return _readable(self._socket)
        return self._inner.get_extra_info(info)


def tls_failure(exc: BaseException) -> str:
    """A TLS handshake failure in words a user can act on (the cause chain, read)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS handshake failed: certificate not trusted ({seen.verify_message})"
        if isinstance(seen, ssl.SSLEOFError) or type(seen).__name__ == "EndOfStream":
            return "TLS handshake failed: the server closed the connection mid-handshake"
        if isinstance(seen, ConnectionResetError):
            return "TLS handshake failed: the server reset the connection mid-handshake"
        if isinstance(seen, ssl.SSLError):
            reason = seen.reason or str(seen)
            return f"TLS handshake failed: {reason.lower().replace('_', ' ')}"
        seen = seen.__cause__ or seen.__context__
    return f"TLS handshake failed: {str(exc) or type(exc).__name__}"


def _readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once (data, or the end of a closed connection)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, vet every address with the guard, connect to a vetted IP, clamp to the deadline."""

    def __init__(self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None):
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=_clamp(10.0)
            )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        except UnicodeError:  # the socket layer's idna codec: empty or over-long labels
            raise httpcore.ConnectError("cannot resolve: not a valid host name") from None
        addresses: list[IPAddress] = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        return addresses

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        allowed = [ip for ip in addresses if self.guard.permits(ip)]
        if not allowed:
            self.guard.check(host, addresses[0])
        last_error: Exception | None = None
        for ip in allowed:
            try:
                stream = await self.inner.connect_tcp(
                    str(ip), port, timeout=_clamp(timeout), local_address=local_address,
                    socket_options=socket_options,
                )
                return _DeadlineStream(stream)
            except httpcore.ConnectTimeout as exc:
                last_error = exc
            except httpcore.ConnectError as exc:
                last_error = httpcore.ConnectError(f"cannot connect to {host}:{port}: "
                                                   f"{_os_reason(exc)}")
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _os_reason(exc: BaseException) -> str:
    """The operating system's reason behind a connect failure ("connection refused", ...)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno).lower()
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


KEEPALIVE = 30.0  # seconds an idle connection is kept for the next request to its host


class PerOriginTransport(httpx.AsyncBaseTransport):
    """A small connection pool per origin (scheme, host, port) instead of one shared pool.

    httpcore's pool scans every connection it holds for every request it assigns, and counts
    them again for every idle one: with a few hosts that costs nothing, with hundreds of hosts
    it was the largest single cost of a poll (measured: ~1.3 million `is_idle` calls for 400
    articles on 40 hosts). Per-host pools keep each scan to a few entries (at most
    `per_host_concurrency` kept alive; more allowed, since redirects from other hosts do not
    hold this host's slot). Pools unused for `idle_after` seconds, with no connection busy, are
    closed, so a daemon watching thousands of hosts does not keep thousands of pools.
    """

    def __init__(self, make: Callable[[], httpx.AsyncHTTPTransport], idle_after: float) -> None:
        self._make = make
        self._idle_after = idle_after
        self._pools: dict[tuple[str, str, int | None], httpx.AsyncHTTPTransport] = {}
        self._used: dict[tuple[str, str, int | None], float] = {}
        self._swept = time.monotonic()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port)
        now = time.monotonic()
        if now - self._swept > self._idle_after:
            self._swept = now
            await self._sweep(now)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make()
        self._used[key] = now
        return await pool.handle_async_request(request)

    async def _sweep(self, now: float) -> None:
        for key, used in list(self._used.items()):
            pool = self._pools.get(key)
            if pool is None:  # closed meanwhile (the client was recycled)
                continue
            connections = pool._pool.connections
            if now - used > self._idle_after and all(c.is_idle() or c.is_closed()
                                                     for c in connections):
                del self._pools[key], self._used[key]
                with contextlib.suppress(Exception):
                    await pool.aclose()

    def __len__(self) -> int:
        return len(self._pools)

    async def aclose(self) -> None:
        pools, self._pools, self._used = list(self._pools.values()), {}, {}
        for pool in pools:
            with contextlib.suppress(Exception):
                await pool.aclose()
