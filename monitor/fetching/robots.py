"""robots.txt for article and listing-page fetches (feeds are meant to be polled).

Parsed with protego (the standard library's parser ignores `*` and `$` patterns). One fetch per
host, cached for a day. Answers: allowed, disallowed, or *wait*: a 4xx robots.txt allows
everything; a 5xx or an unreachable one means "not now" (cached for ten minutes), and the
article waits for a later run instead of being fetched or given up.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from protego import Protego  # type: ignore[import-untyped]

from monitor.errors import FetchError, HTTPStatusError
from monitor.fetching.http import Fetcher

ALLOW_ALL = Protego.parse("")
DAY, TEN_MINUTES = 86400.0, 600.0


class Robots:
    def __init__(self, agent: str) -> None:
        self.agent = agent  # the product token, e.g. "feed-monitor"
        self._rules: dict[str, tuple[float, Protego | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str, fetcher: Fetcher) -> bool | None:
        """True / False, or None when robots.txt could not be read (try again later)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._rules.get(origin)
            if cached is None or cached[0] < time.monotonic():
                cached = await self._load(origin, fetcher)
                self._rules[origin] = cached
        rules = cached[1]
        if rules is None:
            return None
        return bool(rules.can_fetch(url, self.agent))

    async def _load(self, origin: str, fetcher: Fetcher) -> tuple[float, Protego | None]:
        try:
            got = await fetcher.fetch(origin + "/robots.txt", accept="text/plain")
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:
                return time.monotonic() + DAY, ALLOW_ALL
            return time.monotonic() + TEN_MINUTES, None
        except FetchError:
            return time.monotonic() + TEN_MINUTES, None
        text = got.body[:512_000].decode("utf-8", "replace")
        return time.monotonic() + DAY, Protego.parse(text)
