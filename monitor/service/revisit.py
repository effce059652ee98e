"""Revisit alerted articles on a schedule (`alerts.revisits`): a changed headline or text
becomes a new version (title, text, search forms, topics and dedup signature refreshed through
the polling's article path); a 404/410 or a redirect to a section page records the removal."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from monitor.errors import FetchError, HTTPStatusError, WorkerError
from monitor.fetching.decode import decode_document
from monitor.matching.text import normalize
from monitor.polling.content import refreshed
from monitor.polling.deps import Deps
from storage import StorageError
from storage.records import ItemRefresh

log = logging.getLogger("monitor.service.revisit")


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
        next_at = now + timedelta(seconds=later) if later else None
        removed: str | None = None
        refresh: ItemRefresh | None = None
        try:
            page = await deps.fetcher.fetch(item.url, accept="text/html")
            if _section_redirect(item.url, page.final_url):
                removed = f"redirected to {page.final_url}"
            else:
                html, _ = decode_document(page.body, page.content_type)
                got = await refreshed(deps.pool, deps.store, deps.settings,
                                      item_id=item.item_id, outlet=item.outlet,
                                      title=item.title, language=item.language, html=html,
                                      url=page.final_url, reason="revisit")
                if got is not None and _changed(item.title, item.text, got):
                    refresh = got
        except HTTPStatusError as exc:
            if exc.status in (404, 410):
                removed = f"HTTP {exc.status}"
        except (FetchError, WorkerError) as exc:
            log.info("revisit item=%s failed: %s", item.item_id, exc)
        try:
            deps.store.record_revisit(item.item_id, now, next_at, removed=removed,
                                      refresh=refresh, matcher=deps.matcher)
        except StorageError as exc:
            log.warning("revisit item=%s not recorded: %s", item.item_id, exc)
            continue
        done += 1
        if removed or refresh:
            log.warning("revisit item=%s %s", item.item_id,
                        f"removed: {removed}" if removed else "changed")
    return done


def _changed(title: str, text: str | None, got: ItemRefresh) -> bool:
    return normalize(got.text) != normalize(text or "") or \
        (bool(got.title) and normalize(got.title) != normalize(title))
