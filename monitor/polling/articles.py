"""One article: fetch the page; extract it, choose its text and analyse it in one worker task.

The outcome is always a value (`ArticleResult`): a failed fetch or extraction becomes an item
whose ``status`` says what happened (ok | fallback | timeout | empty | error) and whose text is
the best we have (the feed's own content or summary), never an exception that would cost the
other entries of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.configuration.settings import Settings
from monitor.errors import FetchError, WorkerError, WorkerTimeout
from monitor.fetching.decode import decode_document
from monitor.fetching.http import Fetcher
from monitor.fetching.urlcheck import redact_url
from monitor.fetching.urls import absolutize, canonical_url
from monitor.matching.text import clean_stored, one_line
from monitor.parsing.dates import plausible
from monitor.parsing.extract import PAGE_FIELDS, choose, precheck
from monitor.parsing.feeds import Entry
from monitor.polling.analysis import AnalysedArticle, Analysis, topics_context
from monitor.workers import WorkerPool
from storage.records import FetchLog, ItemContent, RawPage, StoredText

ARTICLE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.3"


@dataclass(frozen=True)
class ArticleResult:
    """One article's outcome. When `analysis` is set, `content` already carries its language,
    search forms and agency, and `analysis` describes exactly `content`'s title and text."""

    content: ItemContent
    fetch: FetchLog | None
    analysis: Analysis | None = None


def with_analysis(content: ItemContent, analysis: Analysis) -> ItemContent:
    """The content completed by the analysis of its own title and text."""
    return replace(content, language=analysis.language, search_title=analysis.search_title,
                   search_text=analysis.search_text, agency=content.agency or analysis.agency)


def reused(stored: StoredText, now: datetime) -> ArticleResult:
    """The text another source already downloaded for the same canonical URL."""
    return ArticleResult(ItemContent(
        title=stored.title, text=stored.text or None, author=stored.author,
        published_at=stored.published_at, language=stored.language, status=stored.status,
        status_detail=f"text of item {stored.item_id} (same URL, downloaded by "
                      f"{stored.source_id})",
        declared_canonical_url=stored.declared_canonical_url, agency=stored.agency,
        fetched_at=now), None)


def without_download(entry: Entry, reason: str, now: datetime,
                     retry: bool = False) -> ArticleResult:
    """An article we may not (or cannot yet) download because of robots.txt: the feed's own
    text stands in; with `retry` the item is marked failed so later runs try again."""
    text = _feed_text(entry)
    published = plausible(entry.published, now)
    return ArticleResult(ItemContent(
        title=clean_stored(entry.title), text=clean_stored(text) or None, author=entry.author,
        published_at=published.value, language=None,
        status="error" if retry else "fallback" if text else "empty", status_detail=reason,
        date_note=published.note, fetched_at=now, fetch_attempts=1), None)


def skipped_content(entry: Entry, reason: str, now: datetime) -> ItemContent:
    """An entry the gate (or a bad link) kept us from downloading: title, link and the reason."""
    published = plausible(entry.published, now)
    return ItemContent(
        title=clean_stored(entry.title), text=None, author=entry.author,
        published_at=published.value, language=None, status="skipped", status_detail=reason,
        date_note=published.note, fetched_at=now,
    )


def _feed_text(entry: Entry) -> str:
    return entry.content if len(entry.content) >= len(entry.summary) else entry.summary


def missing_fields(entry: Entry) -> tuple[str, ...]:
    """What the page's metadata must give because the feed entry does not (`PAGE_FIELDS`)."""
    have = {"title": bool(entry.title.strip()), "author": bool(entry.author),
            "published": entry.published is not None}
    return tuple(name for name in PAGE_FIELDS if not have[name])


async def page_article(pool: WorkerPool, settings: Settings, html: str, url: str,
                       entry_title: str, feed_text: str, default_language: str,
                       page_title_first: bool = False,
                       fields: tuple[str, ...] = ()) -> AnalysedArticle:
    """The one article path from a decoded page (polling, revisits and re-extraction alike):
    the caps, then extraction, the choice of text and its analysis in one worker task. A page
    over the caps, a timeout or a failed worker falls back to the feed's text (analysis None:
    the caller analyses that text). `fields`: what the caller needs of the page's metadata
    besides the title, which is wanted whenever it may be chosen (`page_title_first`, or no
    `entry_title`); with none of them wanted the worker skips trafilatura's metadata search."""
    if (page_title_first or not entry_title.strip()) and "title" not in fields:
        fields = ("title", *fields)
    ex = settings.extraction
    too_big = precheck(html, ex.max_html_bytes, ex.max_elements)
    if too_big:
        return AnalysedArticle(choose(entry_title, feed_text, None, too_big, "error"), None)
    try:
        result: AnalysedArticle = await pool.run(
            "article", html, url, entry_title, feed_text, default_language, page_title_first,
            fields, timeout=ex.timeout, context=topics_context(settings.topics))
    except WorkerTimeout as exc:
        failure, status = f"extraction timed out: {exc}", "timeout"
    except WorkerError as exc:
        failure, status = f"extraction failed: {exc}", "error"
    else:
        return result
    return AnalysedArticle(choose(entry_title, feed_text, None, failure, status), None)


async def fetch_article(fetcher: Fetcher, pool: WorkerPool, settings: Settings,
                        entry: Entry, link: str, clock: Callable[[], datetime],
                        default_language: str) -> ArticleResult:
    """Download one article, then `page_article`; the outcome is always a value."""
    now = clock()
    started = time.monotonic()
    feed_text = _feed_text(entry)
    try:
        page = await fetcher.fetch(link, accept=ARTICLE_ACCEPT)
    except FetchError as exc:
        fetch_log = FetchLog("article", redact_url(link), now,
                             int((time.monotonic() - started) * 1000), exc.status, "error",
                             error=str(exc))
        failed = choose(entry.title, feed_text, None, f"article fetch failed: {exc}", "error")
        return _result(entry, AnalysedArticle(failed, None), link, now, fetch_log, None)
    fetch_log = FetchLog("article", redact_url(link), now, page.duration_ms, page.status, "ok",
                         page.wire_bytes)
    html, encoding = decode_document(page.body, page.content_type)
    raw = None
    if settings.database.raw_html_retention > 0:
        raw = RawPage(page.final_url, now, page.content_type or None, encoding, page.body)
    analysed = await page_article(pool, settings, html, page.final_url, entry.title, feed_text,
                                  default_language, fields=missing_fields(entry))
    return _result(entry, analysed, page.final_url, now, fetch_log, raw)


def _result(entry: Entry, analysed: AnalysedArticle, final_url: str, now: datetime,
            fetch_log: FetchLog, raw: RawPage | None) -> ArticleResult:
    article = analysed.article
    published = plausible(entry.published or _parse_iso(article.published), now)
    declared = absolutize(article.canonical_url, final_url) if article.canonical_url else None
    content = ItemContent(
        title=article.title, text=article.text or None,
        author=entry.author or article.author, published_at=published.value,
        language=None, status=article.status,
        status_detail=one_line(article.detail, 500) if article.detail else None,
        date_note=published.note, declared_canonical_url=_safe_canonical(declared),
        fetch_attempts=1, fetched_at=now, raw=raw)
    if analysed.analysis is not None:
        content = with_analysis(content, analysed.analysis)
    return ArticleResult(content, fetch_log, analysed.analysis)


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _safe_canonical(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url)
    except ValueError:
        return None
