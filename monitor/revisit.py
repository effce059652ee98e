"""Revisit alerted articles on a schedule (`alerts.revisits`): a changed headline or text
becomes a new version; a 404/410 or a redirect to a section page records the removal."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor.decode import decode_document
from monitor.errors import (
    DeadlineExceeded,
    HTTPStatusError,
    MonitorError,
    NetworkError,
    WorkerError,
)
from monitor.extract import Extracted
from monitor.http import describe
from monitor.pipeline import Deps
from monitor.text import normalize, one_line, search_form
from storage import StorageError
from storage.revisits import Due

log = logging.getLogger("monitor.revisit")


def _section_redirect(url: str, final: str) -> bool:
    """Did the article redirect to a front or section page (a shorter path on the site)?"""
    a, b = urlsplit(url), urlsplit(final)
    depth = len([p for p in a.path.split("/") if p])
    return (a.netloc, a.path) != (b.netloc, b.path) and \
        len([p for p in b.path.split("/") if p]) < max(depth, 1)


TRANSIENT_STATUSES = frozenset({403, 408, 425, 429, 500, 502, 503, 504})
MAX_TRANSIENT = 5  # transient failures of one revisit before it is given up (and counted)


async def revisit_due(deps: Deps, offsets: tuple[float, ...], limit: int = 20) -> int:
    """Revisit the items that are due; returns how many were revisited. Each item has its own
    outcome: a transient failure (403, 429, 5xx, network, timeout) is retried later without
    using up a revisit; a permanent one uses it up with the reason kept in `revisit_error`;
    nothing an item does can stop the items queued behind it."""
    now = deps.clock()
    done = 0
    for item in deps.store.due_revisits(now, limit):
        later = offsets[item.revisits + 1] - offsets[item.revisits] \
            if item.revisits + 1 < len(offsets) else None
        next_at = now + timedelta(seconds=later) if later else None
        outcome: dict[str, object] = {}
        try:
            outcome = await _revisit(deps, item)
        except Exception as exc:  # per item: classified and recorded, never raised
            outcome = _failure(item, exc, now)
        if "retry_at" in outcome:
            next_at = outcome.pop("retry_at")  # type: ignore[assignment]
        try:
            deps.store.record_revisit(item.item_id, now, next_at, **outcome)
        except StorageError as exc:
            log.warning("revisit item=%s not recorded: %s", item.item_id, exc)
            continue
        done += 1
        if outcome:
            log.warning("revisit item=%s %s", item.item_id, _describe(outcome))
    return done


async def _revisit(deps: Deps, item: Due) -> dict[str, object]:
    page = await deps.fetcher.fetch(item.url, accept="text/html")
    if _section_redirect(item.url, page.final_url):
        return {"removed": f"redirected to {describe(page.final_url)}"}
    html, _ = decode_document(page.body, page.content_type)
    got: Extracted | None = await deps.pool.run(
        "extract", html, page.final_url, timeout=deps.settings.extraction.timeout)
    if got is not None and _changed(item.title, item.text, got):
        return {"title": got.title or item.title, "text": got.text,
                "search_title": search_form(got.title or item.title),
                "search_text": search_form(got.text)}
    return {}


def _failure(item: Due, exc: Exception, now: datetime) -> dict[str, object]:
    """What a failed revisit records: removed (404/410), a retry (transient), or the error."""
    if isinstance(exc, HTTPStatusError) and exc.status in (404, 410):
        return {"removed": f"HTTP {exc.status}"}
    message = one_line(str(exc) or type(exc).__name__, 200)
    if not isinstance(exc, MonitorError):
        log.exception("revisit item=%s failed unexpectedly", item.item_id)
        message = f"internal error: {type(exc).__name__}"
    transient = isinstance(exc, NetworkError | DeadlineExceeded | WorkerError) or (
        isinstance(exc, HTTPStatusError) and exc.status in TRANSIENT_STATUSES)
    if transient and item.failures + 1 < MAX_TRANSIENT:
        delay = max(60.0 * 2 ** item.failures, getattr(exc, "retry_after", None) or 0.0)
        return {"error": message, "retry": True,
                "retry_at": now + timedelta(seconds=min(delay, 6 * 3600.0))}
    return {"error": message}


def _describe(outcome: dict[str, object]) -> str:
    if "removed" in outcome:
        return f"removed: {outcome['removed']}"
    if "error" in outcome:
        return f"{'will retry' if outcome.get('retry') else 'failed'}: {outcome['error']}"
    return "changed"


def _changed(title: str, text: str | None, got: Extracted) -> bool:
    return normalize(got.text) != normalize(text or "") or \
        (bool(got.title) and normalize(got.title) != normalize(title))


