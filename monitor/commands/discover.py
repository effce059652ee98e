"""What a URL offers as a source: `monitor sources add URL` and `monitor sources check`.

The URL is fetched once through the daemon's guarded client (address guard, caps, deadline,
redirect limits). Its body is tried as each kind (parsed in a worker process, with the parse
time limit): a Telegram preview, a feed, a sitemap. An HTML page is searched for
``<link rel="alternate">`` feeds; the site's usual feed paths (``/feed``, ``/rss``, ...) and
its ``robots.txt`` ``Sitemap:`` lines are tried too. Each candidate is probed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import lxml.html

from monitor.errors import FetchError, ParseError
from monitor.fetching.decode import decode_document
from monitor.fetching.http import Fetched, Fetcher, describe
from monitor.parsing.feeds import ParsedFeed
from monitor.parsing.telegram import is_telegram, newest
from monitor.polling.source_kinds import KIND, Follow
from monitor.workers import WorkerPool

FEED_PATHS = ("/feed", "/feed/", "/rss", "/rss/", "/rss.xml", "/feed.xml", "/atom.xml",
              "/index.xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/json")
MAX_CANDIDATES = 12


@dataclass(frozen=True)
class Probe:
    """One URL tried as one kind."""

    url: str
    kind: str
    title: str = ""
    status: int | None = None
    parsed: ParsedFeed | None = None
    error: str | None = None
    via: str = ""  # how it was found: the URL itself, a <link>, a convention, robots.txt

    @property
    def ok(self) -> bool:
        return self.parsed is not None and bool(self.parsed.entries)

    @property
    def newest(self) -> datetime | None:
        return newest(self.parsed.entries) if self.parsed else None


async def probe(fetcher: Fetcher, pool: WorkerPool, parse_timeout: float, url: str, kind: str,
                via: str = "", fetched: Fetched | None = None) -> Probe:
    """Fetch (unless given) and parse `url` as `kind`; a sitemap index is followed."""
    follow = Follow(fetcher, pool, parse_timeout, KIND[kind], [], datetime.now(), False)
    try:
        got = fetched or await follow.fetch(url, KIND[kind].accept)
        parsed = await follow.parse(got)
        if KIND[kind].follow is not None:
            parsed = await KIND[kind].follow(follow, parsed)  # type: ignore[misc]
    except (FetchError, ParseError) as exc:
        return Probe(url, kind, status=getattr(exc, "status", None), error=str(exc), via=via)
    return Probe(url, kind, parsed.title, got.status, parsed, parsed.problem, via)


def _alternates(body: bytes, content_type: str, base: str) -> list[tuple[str, str]]:
    """(url, title) of the feeds an HTML page links with <link rel="alternate" type=...>."""
    text, _ = decode_document(body, content_type)
    try:
        root = lxml.html.document_fromstring(text.replace("\x00", "") or "<html/>")
    except (ValueError, lxml.etree.ParserError):
        return []
    out: list[tuple[str, str]] = []
    for link in root.iter("link"):
        rel = str(link.get("rel") or "").lower().split()
        kind = str(link.get("type") or "").lower().split(";")[0].strip()
        href = str(link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            out.append((urljoin(base, href), str(link.get("title") or "")))
    return out


async def _robots_sitemaps(fetcher: Fetcher, origin: str) -> list[str]:
    try:
        got = await fetcher.fetch(origin + "/robots.txt", accept="text/plain")
    except FetchError:
        return []
    lines = got.body[:512_000].decode("utf-8", "replace").splitlines()
    return [line.split(":", 1)[1].strip() for line in lines
            if line.lower().startswith("sitemap:") and "://" in line]


async def discover(fetcher: Fetcher, pool: WorkerPool, parse_timeout: float,
                   url: str) -> list[Probe]:
    """Every source the URL is or points to, the URL's own kinds first. A failure to fetch
    the URL itself raises (FetchError): nothing else is tried then."""
    path = urlsplit(url).path
    if is_telegram(url) and not path.startswith("/s/") and path.strip("/").isidentifier():
        url = f"https://t.me/s/{path.strip('/')}"  # the channel's page -> its public preview
    kinds = ("telegram",) if is_telegram(url) or path.startswith("/s/") else ()
    first = await fetcher.fetch(url, accept=KIND["feed"].accept)
    found: list[Probe] = []
    for kind in (*kinds, "feed", "sitemap"):
        p = await probe(fetcher, pool, parse_timeout, first.final_url, kind, "the URL itself",
                        first)
        if p.ok:
            return [p]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(first.final_url))
    tried = {first.final_url}
    candidates = [(u, "feed", f"<link rel=alternate> {t}".strip())
                  for u, t in _alternates(first.body, first.content_type, first.final_url)]
    if not candidates:
        candidates = [(origin + p, "feed", "the usual feed path") for p in FEED_PATHS]
    candidates += [(u, "sitemap", "robots.txt Sitemap: line")
                   for u in await _robots_sitemaps(fetcher, origin)]
    for candidate, kind, via in candidates[:MAX_CANDIDATES]:
        if candidate in tried:
            continue
        tried.add(candidate)
        p = await probe(fetcher, pool, parse_timeout, candidate, kind, via)
        if p.ok:
            found.append(p)
    if not found:
        raise ParseError(f"{describe(first.final_url)}: no feed, sitemap or Telegram preview "
                         "found (tried the page, its <link rel=alternate> feeds, the usual "
                         "feed paths and robots.txt)")
    return found
