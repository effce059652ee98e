"""What the monitor learns from an item's text, computed in a worker process.

Language, the normalised search forms, the agency credit, topics and the dedup fingerprint are
pure functions of (title, text): together they cost a few milliseconds per article, as much as
the main process spends on everything else, so they run in the worker pool next to extraction
(task ``analyse``) instead of on the event loop. The topic rules travel to the workers as a
*context* (pickled once per configuration, sent to each worker once; see monitor.workers).

The fingerprint comes back without the outlet's learnt boilerplate paragraphs left out: only the
store knows those. `pipeline.fingerprint_for` asks the store about the paragraph hashes and
recomputes in-process in the uncommon case that some are boilerplate.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass

from monitor import dedup, topics, wire
from monitor.extract import Extracted, extract_article, page_text
from monitor.text import guess_language, search_form
from monitor.topics import TopicsConfig
from storage.records import Fingerprint, TopicHit


@dataclass(frozen=True)
class Analysis:
    language: str
    search_title: str
    search_text: str
    agency: str | None
    topics: tuple[TopicHit, ...]
    fingerprint: Fingerprint | None  # None when there is no text


def analyse(config: TopicsConfig, title: str, text: str | None, default_language: str,
            known_language: str | None = None) -> Analysis:
    """`known_language`: the item's language is already known (text another source stored):
    used as is; otherwise guessed from the text, `default_language` when unclear."""
    body = text or ""
    language = known_language or guess_language(f"{title} {body}", default_language)
    search_title = search_form(title)
    if not body:
        return Analysis(language, search_title, "", None, (), None)
    search_text = search_form(body)
    return Analysis(
        language=language, search_title=search_title, search_text=search_text,
        agency=wire.agency_of(dedup.paragraphs(body)),
        topics=tuple(topics.classify(config, search_title, search_text, language,
                                     normalised=True, possible=True)),
        fingerprint=dedup.fingerprint(body))


def extract_and_analyse(config: TopicsConfig, html: str, url: str, entry_title: str,
                        feed_text_chars: int, default_language: str,
                        ) -> tuple[Extracted | None, Analysis | None]:
    """Worker task ``extract_analyse``: the page extracted and, when its text is the one the
    item will keep (`extract.page_text`), analysed in the same task. One round trip per
    article instead of two, and the text does not cross the pipe twice. The analysis is None
    when the feed's text wins or analysing failed: the pipeline then analyses the item alone."""
    extracted = extract_article(html, url)
    if extracted is None:
        return None, None
    chosen = page_text(entry_title, feed_text_chars, extracted)
    if chosen is None:
        return extracted, None
    try:
        return extracted, analyse(config, chosen[0], chosen[1], default_language)
    except Exception:  # never lose the extraction to a fault in our own analysis
        return extracted, None


@dataclass(frozen=True)
class WorkerContext:
    """An object workers keep between tasks, known by the digest of its pickle."""

    key: str
    blob: bytes

    @classmethod
    def of(cls, value: object) -> WorkerContext:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.sha1(blob).hexdigest(), blob)


_last: tuple[TopicsConfig, WorkerContext] | None = None


def topics_context(config: TopicsConfig) -> WorkerContext:
    """The topics as a worker context; pickled once per configuration object."""
    global _last
    if _last is None or _last[0] is not config:
        _last = (config, WorkerContext.of(config))
    return _last[1]
