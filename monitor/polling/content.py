"""Stored items' content: dedup fingerprints that leave the outlet's boilerplate out, and an
item's content refreshed from its page again (revisits, `reextract`) through the same article
path as polling (`articles.page_article`, through `refresh_of`), so title, text, search
forms, topics and signature are always replaced together."""

from __future__ import annotations

import logging

from monitor.configuration.settings import Settings
from monitor.errors import WorkerError
from monitor.matching import dedup
from monitor.parsing.extract import ArticleText
from monitor.polling.analysis import Analysis, analyse, topics_context
from monitor.polling.articles import page_article
from monitor.workers import WorkerContext, WorkerPool
from storage import Store
from storage.records import Fingerprint, ItemRefresh

log = logging.getLogger("monitor.polling.content")
FALLBACK_CHARS = 100_000  # text analysed on the event loop when a worker could not analyse it


async def analysis_of(pool: WorkerPool, settings: Settings, title: str, text: str | None,
                      default_language: str, known_language: str | None = None,
                      context: WorkerContext | None = None) -> Analysis:
    """The analysis of (title, text) made in a worker; in this process if the worker failed.
    That is our own code on text of bounded size, so a failure means a dying or starved
    worker rather than hostile input; still, the in-process fallback (on the event loop) only
    reads the first `FALLBACK_CHARS` of the text."""
    try:
        result: Analysis = await pool.run(
            "analyse", title, text, default_language, known_language,
            timeout=settings.extraction.timeout,
            context=context or topics_context(settings.topics))
        return result
    except WorkerError as exc:
        log.warning("analysis in a worker failed (%s); analysing in-process", exc)
        return analyse(settings.topics, title, text[:FALLBACK_CHARS] if text else text,
                       default_language, known_language)


def fingerprint_for(store: Store, settings: Settings, outlet: str, text: str | None,
                    computed: Fingerprint | None = None) -> Fingerprint:
    """A dedup fingerprint that leaves out the paragraphs the store knows as the outlet's
    boilerplate. `computed` (made without exclusions, by a worker) is used when none of its
    paragraphs is boilerplate, which is the common case; otherwise the signatures are made
    again and its paragraph shingles for verification are kept, less the boilerplate ones."""
    def frequent(hashes: tuple[int, ...]) -> set[int]:
        return store.boilerplate_lines(outlet, hashes, settings.dedup.boilerplate_min_items)
    if computed is not None and not frequent(computed.line_hashes):
        return computed
    return dedup.fingerprint(text, frequent,
                             shingled=computed.shingled if computed is not None else None)


async def refresh_of(pool: WorkerPool, store: Store, settings: Settings, *, item_id: int,
                     outlet: str, title: str, language: str | None, html: str, url: str,
                     reason: str) -> tuple[ItemRefresh | None, ArticleText]:
    """The item's content from its page (None when the page gave no text: over the caps, a
    timeout, nothing found) and what the article path made of the page. A revisit (`reason`
    "revisit") takes the page's headline and keeps the old version; a re-extraction keeps the
    stored headline and no version."""
    revisit = reason == "revisit"
    analysed = await page_article(pool, settings, html, url, title, "", language or "en",
                                  page_title_first=revisit)
    article = analysed.article
    if article.status != "ok" or not article.text:
        return None, article
    a = analysed.analysis or await analysis_of(pool, settings, article.title, article.text,
                                               language or "en")
    return ItemRefresh(
        item_id=item_id, title=article.title, text=article.text, language=a.language,
        search_title=a.search_title, search_text=a.search_text, agency=a.agency,
        topics=a.topics, fingerprint=fingerprint_for(store, settings, outlet, article.text,
                                                     a.fingerprint),
        reason=reason, keep_version=revisit), article
