"""One article: fetch the page, extract it in a worker, choose the best text, date and language.

The outcome is always a value (`ArticleResult`): a failed fetch or extraction becomes an item
whose ``status`` says what happened (ok | fallback | timeout | empty | error) and whose text is
the best we have (the feed's own content or summary), never an exception that would cost the
other entries of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.analysis import Analysis, topics_context
from monitor.dates import plausible
from monitor.decode import decode_document
from monitor.errors import FetchError, WorkerError, WorkerTimeout
from monitor.extract import Extracted, page_text, precheck
from monitor.feeds import Entry
from monitor.http import Fetched, Fetcher
from monitor.settings import Settings
from monitor.text import clean_stored, one_line
from monitor.urlcheck import redact_url
from monitor.urls import absolutize, canonical_url
from monitor.workers import WorkerPool
from storage.records import FetchLog, ItemContent, RawPage

ARTICLE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.3"


@dataclass(frozen=True)
class ArticleResult:
    content: ItemContent
    fetch: FetchLog | None
    analysis: Analysis | None = None  # of `content`, made by the worker that extracted it


def reused(row: Any, now: datetime) -> ArticleResult:
    """The text another source already downloaded for the same canonical URL."""
    text = row["text"] or ""
    return ArticleResult(ItemContent(
        title=row["title"], text=text or None, author=row["author"],
        published_at=_parse_iso(row["published_at"]), language=row["language"],
        status=row["status"],
        status_detail=f"text of item {row['id']} (same URL, downloaded by {row['source_id']})",
        declared_canonical_url=row["declared_canonical_url"], agency=row["agency"],
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


def _choose(entry: Entry, extracted: Extracted | None, failure: str | None,
            failure_status: str) -> tuple[str, str, str, str | None]:
    """(title, text, status, detail) from the extracted page and the feed's own text."""
    feed_text = _feed_text(entry)
    if extracted is not None:
        chosen = page_text(entry.title, len(feed_text), extracted)
        if chosen is not None:
            return chosen[0], chosen[1], "ok", None
    title = clean_stored(entry.title or (extracted.title if extracted else "")
                         or one_line(feed_text, 120))
    if extracted is not None:
        detail = "feed content longer than the extracted text"
        return title, clean_stored(feed_text), "fallback", detail
    if failure is None:
        failure = "no main text found on the page"
    if feed_text.strip():
        status = "fallback" if failure_status != "timeout" else "timeout"
        return title, clean_stored(feed_text), status, f"{failure}; feed text used"
    return title, "", failure_status, failure


async def fetch_article(fetcher: Fetcher, pool: WorkerPool, settings: Settings,
                        entry: Entry, link: str, clock: Callable[[], datetime],
                        default_language: str) -> ArticleResult:
    """Download, extract and (in the same worker task) analyse one article."""
    now = clock()
    started = time.monotonic()
    extracted: Extracted | None = None
    analysis: Analysis | None = None
    failure: str | None = None
    failure_status = "empty"
    raw: RawPage | None = None
    fetch_log: FetchLog
    page: Fetched | None = None
    try:
        page = await fetcher.fetch(link, accept=ARTICLE_ACCEPT)
    except FetchError as exc:
        fetch_log = FetchLog("article", redact_url(link), now,
                             int((time.monotonic() - started) * 1000),
                             getattr(exc, "status", None), "error", error=str(exc))
        failure, failure_status = f"article fetch failed: {exc}", "error"
    else:
        fetch_log = FetchLog("article", redact_url(link), now, page.duration_ms, page.status,
                             "ok", page.wire_bytes)
    final_url = page.final_url if page is not None else link
    if page is not None:
        html, encoding = decode_document(page.body, page.content_type)
        if settings.database.raw_html_retention > 0:
            raw = RawPage(final_url, now, page.content_type or None, encoding, page.body)
        ex = settings.extraction
        too_big = precheck(html, ex.max_html_bytes, ex.max_elements)
        if too_big:
            failure, failure_status = too_big, "error"
        else:
            try:
                extracted, analysis = await pool.run(
                    "extract_analyse", html, final_url, entry.title,
                    len(_feed_text(entry)), default_language, timeout=ex.timeout,
                    context=topics_context(settings.topics))
            except WorkerTimeout as exc:
                failure, failure_status = f"extraction timed out: {exc}", "timeout"
            except WorkerError as exc:
                failure, failure_status = f"extraction failed: {exc}", "error"
    title, text, status, detail = _choose(entry, extracted, failure, failure_status)
    published = plausible(entry.published or _parse_iso(extracted.published if extracted else None),
                          now)
    declared = absolutize(extracted.canonical_url, final_url) if extracted else None
    return ArticleResult(
        content=ItemContent(
            title=title, text=text or None,
            author=entry.author or (extracted.author if extracted else None),
            published_at=published.value,
            language=None,  # with the search forms, from the analysis (pipeline._annotate)
            status=status, status_detail=one_line(detail, 500) if detail else None,
            date_note=published.note,
            declared_canonical_url=_safe_canonical(declared),
            fetch_attempts=1, fetched_at=now, raw=raw,
        ),
        fetch=fetch_log,
        analysis=analysis if status == "ok" else None,
    )


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
