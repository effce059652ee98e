"""What the monitor learns from an item's text, computed in a worker process.

Language, the normalised search forms, the agency credit, topics and the dedup fingerprint are
pure functions of (title, text): together they cost a few milliseconds per article, as much as
the main process spends on everything else, so they run in the worker pool next to extraction
(tasks ``analyse`` and ``article``) instead of on the event loop. The topic rules travel to the
workers as a *context* (pickled once per configuration, sent to each worker once; see
monitor.workers).

The fingerprint carries the text's paragraph shingles for exact near-duplicate verification
(`verify.Shingled`, about four bytes a shingle), so the main process never cuts a text into
shingles in its write transaction. It comes back without the outlet's learnt boilerplate
paragraphs left out: only the store knows those. `pipeline.fingerprint_for` asks the store
about the paragraph hashes and recomputes the signatures in-process in the uncommon case that
some are boilerplate (the paragraph shingles are kept, less those paragraphs).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.matching import dedup, related, topics, wire
from monitor.matching.lead import menu_last
from monitor.matching.text import guess_language, joined_search_form, search_form
from monitor.matching.topics import TopicsConfig
from monitor.parsing.extract import PAGE_FIELDS, ArticleText, choose, extract_article
from monitor.workers import WorkerContext, task
from storage.records import Fingerprint, RelatedFeatures, TopicHit


@dataclass(frozen=True)
class Analysis:
    language: str
    search_title: str
    search_text: str
    agency: str | None
    topics: tuple[TopicHit, ...]
    fingerprint: Fingerprint | None  # None when there is no text
    related: RelatedFeatures | None = None  # only for items that passed the topic stage


@task("analyse")
def analyse(config: TopicsConfig, title: str, text: str | None, default_language: str,
            known_language: str | None = None) -> Analysis:
    """`known_language`: the item's language is already known (text another source stored):
    used as is; otherwise guessed from the text, `default_language` when unclear."""
    body = text or ""
    language = known_language or guess_language(f"{title} {body}", default_language)
    search_title = search_form(title)
    if not body:
        return Analysis(language, search_title, "", None, (), None)
    # every paragraph is normalised once: the search text, the fingerprint and the related
    # features are made of the paragraphs' search forms (the whole text again only when a
    # joiner at a paragraph's edge makes the difference)
    lines = dedup.paragraphs(body)
    normed = {line: search_form(line) for line in lines}
    forms = [normed[line] for line in lines]
    search_text = joined_search_form(lines, forms)
    if search_text is None:
        search_text = search_form(body)
    story = menu_last(body)  # the topic stage reads the story's lead, not the site's menu
    hits = tuple(topics.classify(config, search_title,
                                 search_text if story is body else search_form(story), language,
                                 normalised=True, possible=True))
    passed = any(h.state == "match" for h in hits)  # related coverage: topic items only
    return Analysis(
        language=language, search_title=search_title, search_text=search_text,
        agency=wire.agency_of(lines), topics=hits,
        fingerprint=dedup.fingerprint(body, normed=normed),
        related=related.features(title, body, language, normalised=joined_search_form(
            [title, *lines], [search_title, *forms])) if passed else None)


@dataclass(frozen=True)
class AnalysedArticle:
    """Worker task ``article``'s one answer: the text the item keeps (chosen by
    `extract.choose` from the page and the feed entry) and the analysis of exactly that text.
    `analysis` is None only when our own analysis failed; the pipeline then analyses the item
    alone, so a fault there never costs the extraction."""

    article: ArticleText
    analysis: Analysis | None


@task("article")
def article_task(config: TopicsConfig, html: str, url: str, entry_title: str, feed_text: str,
                 default_language: str, page_title_first: bool = False,
                 fields: tuple[str, ...] = PAGE_FIELDS) -> AnalysedArticle:
    """Extract the page, choose the item's title and text, analyse them: one round trip per
    article, and the extracted text never crosses the pipe twice. `fields`: what the caller
    needs from the page's metadata (`extract.PAGE_FIELDS`; the title whenever it may be
    chosen, see `articles.page_article`)."""
    article = choose(entry_title, feed_text, extract_article(html, url, fields, entry_title),
                     page_title_first=page_title_first)
    try:
        analysis = analyse(config, article.title, article.text or None, default_language)
    except Exception:  # never lose the extraction to a fault in our own analysis
        analysis = None
    return AnalysedArticle(article, analysis)


_last: tuple[TopicsConfig, WorkerContext] | None = None


def topics_context(config: TopicsConfig) -> WorkerContext:
    """The topics as a worker context; pickled once per configuration object."""
    global _last
    if _last is None or _last[0] is not config:
        _last = (config, WorkerContext.of(config))
    return _last[1]
