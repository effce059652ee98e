"""Revisit alerted articles on a schedule (`alerts.revisits`): a changed headline or text
becomes a new version (title, text, search forms, topics and dedup signature refreshed through
the polling's article path); a 404/410 or a redirect to a section page records the removal.

Each item has its own outcome, a value: a transient failure (403, 429, 5xx, network, timeout)
is retried later without using up a revisit; a permanent one uses it up with the reason kept in
`revisit_error`; nothing an item does can stop the items queued behind it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor.errors import (
    DeadlineExceeded,
    HTTPStatusError,
    MonitorError,
    NetworkError,
    WorkerError,
)
from monitor.fetching.decode import decode_document
from monitor.fetching.http import describe
from monitor.matching.text import normalize, one_line
from monitor.polling.content import refresh_of
from monitor.polling.deps import Deps
from storage import StorageError
from storage.records import ItemRefresh
from storage.revisits import Due

log = logging.getLogger("monitor.service.revisit")

TRANSIENT_STATUSES = frozenset({403, 408, 425, 429, 500, 502, 503, 504})
MAX_TRANSIENT = 5  # transient failures of one revisit before it is given up (and counted)


@dataclass(frozen=True)
class Outcome:
    """What one revisit found: nothing new, a removal, a new version, or a failure (with
    `retry_at` when it is transient and will be tried again)."""

    removed: str | None = None
    refresh: ItemRefresh | None = None
    error: str | None = None
    retry_at: datetime | None = None

    def describe(self) -> str | None:
        if self.removed:
            return f"removed: {self.removed}"
        if self.error:
            return f"{'will retry' if self.retry_at else 'failed'}: {self.error}"
        return "changed" if self.refresh else None


def _section_redirect(url: str, final: str) -> bool:
    """Did the article redirect to a front or section page (a shorter path on the site)?"""
    a, b = urlsplit(url), urlsplit(final)
    depth = len([p for p in a.path.split("/") if p])
    return (a.netloc, a.path) != (b.netloc, b.path) and \
        len([p for p in b.path.split("/") if p]) < max(depth, 1)


async def revisit_due(deps: Deps, offsets: tuple[float, ...], limit: int = 20) -> int:
    """Revisit the items that are due; returns how many were revisited."""
    now = deps.clock()
    done = 0
    for item in deps.store.due_revisits(now, limit):
        later = offsets[item.revisits + 1] - offsets[item.revisits] \
            if item.revisits + 1 < len(offsets) else None
        try:
            outcome = await _revisit(deps, item)
        except Exception as exc:  # per item: classified and recorded, never raised
            outcome = _failure(item, exc, now)
        next_at = outcome.retry_at or (now + timedelta(seconds=later) if later else None)
        try:
            deps.store.record_revisit(item.item_id, now, next_at, removed=outcome.removed,
                                      refresh=outcome.refresh, matcher=deps.matcher,
                                      error=outcome.error, retry=outcome.retry_at is not None)
        except StorageError as exc:
            log.warning("revisit item=%s not recorded: %s", item.item_id, exc)
            continue
        done += 1
        if outcome.describe():
            log.warning("revisit item=%s %s", item.item_id, outcome.describe())
    return done


async def _revisit(deps: Deps, item: Due) -> Outcome:
    page = await deps.fetcher.fetch(item.url, accept="text/html")
    if _section_redirect(item.url, page.final_url):
        return Outcome(removed=f"redirected to {describe(page.final_url)}")
    html, _ = decode_document(page.body, page.content_type)
    got, _ = await refresh_of(deps.pool, deps.store, deps.settings, item_id=item.item_id,
                              outlet=item.outlet, title=item.title, language=item.language,
                              html=html, url=page.final_url, reason="revisit")
    if got is not None and _changed(item.title, item.text, got):
        return Outcome(refresh=got)
    return Outcome()


def _failure(item: Due, exc: Exception, now: datetime) -> Outcome:
    """What a failed revisit records: removed (404/410), a retry (transient), or the error."""
    if isinstance(exc, HTTPStatusError) and exc.status in (404, 410):
        return Outcome(removed=f"HTTP {exc.status}")
    message = one_line(str(exc) or type(exc).__name__, 200)
    if not isinstance(exc, MonitorError):
        log.exception("revisit item=%s failed unexpectedly", item.item_id)
        message = f"internal error: {type(exc).__name__}"
    transient = isinstance(exc, NetworkError | DeadlineExceeded | WorkerError) or (
        isinstance(exc, HTTPStatusError) and exc.status in TRANSIENT_STATUSES)
    if transient and item.failures + 1 < MAX_TRANSIENT:
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        delay = max(60.0 * 2 ** item.failures, retry_after or 0.0)
        return Outcome(error=message, retry_at=now + timedelta(seconds=min(delay, 6 * 3600.0)))
    return Outcome(error=message)


def _changed(title: str, text: str | None, got: ItemRefresh) -> bool:
    return normalize(got.text) != normalize(text or "") or \
        (bool(got.title) and normalize(got.title) != normalize(title))
