"""Source kinds: one object per `kind` of `sources.toml`, and the registry the pipeline uses.

A kind says what the listing fetch accepts, whether robots.txt is asked before fetching the
listing (feeds and sitemaps are meant for machines; HTML pages are not), whether the listing
may be fetched conditionally and skipped when its bytes did not change, which worker task
parses it, what more it fetches after parsing (a sitemap index's newest sitemaps; a Telegram
channel's older pages on its first poll), and which entries are complete without a download
(a Telegram message that links no article).

    feed       RSS, Atom, JSON Feed                        monitor.parsing.feeds.parse_feed
    page       an HTML listing page of article links       monitor.parsing.feeds.parse_listing
    sitemap    a (news) sitemap or sitemap index, gzip ok   monitor.parsing.sitemaps.parse_sitemap
    telegram   a public channel's preview t.me/s/NAME      monitor.parsing.telegram.parse_telegram
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.configuration.sources import KINDS, SourceConfig
from monitor.errors import FetchError, ParseError, WorkerError
from monitor.fetching.http import Fetched, Fetcher
from monitor.matching.text import clean_stored
from monitor.parsing.dates import plausible
from monitor.parsing.feeds import Entry, ParsedFeed
from monitor.parsing.telegram import links_article
from monitor.polling.articles import ArticleResult
from monitor.workers import WorkerPool
from storage.records import FetchLog, ItemContent

if TYPE_CHECKING:
    from monitor.polling.deps import Deps

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
SITEMAP_ACCEPT = ("application/xml, text/xml, application/gzip;q=0.9, "
                  "application/x-gzip;q=0.9, */*;q=0.5")
SITEMAP_CHILDREN = 3  # sitemaps of an index fetched per run, newest lastmod first
TELEGRAM_PAGES_BACK = 3  # older preview pages read on a channel's first poll


@dataclass
class Follow:
    """What a kind's follow-up step may do: fetch (logged like every fetch) and parse."""

    fetcher: Fetcher
    pool: WorkerPool
    parse_timeout: float
    kind: SourceKind
    fetches: list[FetchLog]
    now: datetime
    first_poll: bool

    @classmethod
    def for_run(cls, deps: Deps, source: SourceConfig, fetches: list[FetchLog], now: datetime,
                first_poll: bool) -> Follow:
        return cls(deps.fetcher_for(source), deps.pool, deps.settings.extraction.parse_timeout,
                   KIND[source.kind], fetches, now, first_poll)

    async def fetch(self, url: str, accept: str) -> Fetched:
        started = time.monotonic()
        try:
            got = await self.fetcher.fetch(url, accept=accept)
        except FetchError as exc:
            self.fetches.append(FetchLog(self.kind.purpose, url, self.now,
                                         int((time.monotonic() - started) * 1000),
                                         getattr(exc, "status", None), "error", error=str(exc)))
            raise
        self.fetches.append(FetchLog(self.kind.purpose, url, self.now, got.duration_ms,
                                     got.status, "ok", got.wire_bytes))
        return got

    async def parse(self, fetched: Fetched) -> ParsedFeed:
        task = self.kind.parse_task
        try:
            parsed: ParsedFeed = await self.pool.run(
                task, fetched.body, fetched.content_type, fetched.final_url,
                timeout=self.parse_timeout)
        except ParseError:
            raise
        except WorkerError as exc:  # a timeout, a crash or a fault in the parser
            raise ParseError(str(exc)) from None
        return parsed


FollowStep = Callable[[Follow, ParsedFeed], Awaitable[ParsedFeed]]


def _never(entry: Entry) -> bool:
    return False


@dataclass(frozen=True)
class SourceKind:
    name: str
    accept: str
    purpose: str  # fetches.purpose of the listing fetch: feed | page
    robots_listing: bool  # ask robots.txt before fetching the listing
    parse_task: str  # worker task (monitor.workers) that turns the body into entries
    conditional: bool = True  # send ETag / Last-Modified and skip an unchanged body
    follow: FollowStep | None = None
    direct: Callable[[Entry], bool] = field(default=_never)  # entry complete without download


async def _sitemap_children(ctx: Follow, parsed: ParsedFeed) -> ParsedFeed:
    """A sitemap index: read its newest sitemaps (bounded), entries merged, newest first."""
    if not parsed.children:
        return parsed
    entries: list[Entry] = []
    problems: list[str] = []
    for url in parsed.children[:SITEMAP_CHILDREN]:
        try:
            child = await ctx.parse(await ctx.fetch(url, SITEMAP_ACCEPT))
        except (FetchError, ParseError) as exc:
            problems.append(f"{url}: {exc}")
            continue
        if child.children:
            problems.append(f"{url}: a nested sitemap index (not followed)")
        entries.extend(child.entries)
    if not entries and problems:
        raise ParseError("no sitemap of the index could be read: " + "; ".join(problems[:3]))
    entries.sort(key=lambda e: (e.published is not None, e.published or ctx.now), reverse=True)
    return replace(parsed, entries=entries, kind="sitemap",
                   problem="; ".join(problems)[:300] if problems else parsed.problem)


async def _telegram_pages(ctx: Follow, parsed: ParsedFeed) -> ParsedFeed:
    """A channel's first poll reads a few older preview pages (?before=) too."""
    if not ctx.first_poll or not parsed.older:
        return parsed
    entries = list(parsed.entries)
    older: str | None = parsed.older
    for _ in range(TELEGRAM_PAGES_BACK):
        if older is None:
            break
        try:
            page = await ctx.parse(await ctx.fetch(older, PAGE_ACCEPT))
        except ParseError as exc:
            if "no messages" in str(exc):  # before the channel's first message
                break
            return replace(parsed, entries=entries, problem=f"older messages: {exc}"[:300])
        except FetchError as exc:
            return replace(parsed, entries=entries, problem=f"older messages: {exc}"[:300])
        known = {e.guid for e in entries}
        entries.extend(e for e in page.entries if e.guid not in known)
        older = page.older if page.older != older else None
    return replace(parsed, entries=entries)


def message_content(entry: Entry, now: datetime) -> ArticleResult:
    """A message that links no article: its own text is the item's text."""
    published = plausible(entry.published, now)
    text = clean_stored(entry.content)
    return ArticleResult(ItemContent(
        title=clean_stored(entry.title), text=text or None, author=entry.author,
        published_at=published.value, language=None, status="ok" if text else "empty",
        status_detail="the message's own text (it links no article)",
        date_note=published.note, fetched_at=now), None)


KIND: dict[str, SourceKind] = {
    "feed": SourceKind("feed", FEED_ACCEPT, "feed", False, "parse_feed"),
    "page": SourceKind("page", PAGE_ACCEPT, "page", True, "parse_listing"),
    # an index's own bytes rarely change while its sitemaps do: no conditional GET, no skip
    "sitemap": SourceKind("sitemap", SITEMAP_ACCEPT, "feed", False, "parse_sitemap",
                          conditional=False, follow=_sitemap_children),
    "telegram": SourceKind("telegram", PAGE_ACCEPT, "page", True, "parse_telegram",
                           follow=_telegram_pages,
                           direct=lambda entry: not links_article(entry)),
}
assert tuple(KIND) == KINDS, "every configured kind needs its object"


def kind_of(source: SourceConfig) -> SourceKind:
    return KIND[source.kind]
