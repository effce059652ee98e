"""What the query commands do with their options and results before a user sees them.

Filters naming nothing that exists are refused (a typo must not look like "no results"); a search
written with a space where the text has a ZWNJ («کرده اند» for «کرده‌اند») finds the joined word
too; results come one per story, with the sources that carried it; snippets are cut from the
stored text as published, not from the lower-cased search form.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from monitor.matching.text import one_line, search_form
from storage import Store
from storage.records import SearchHit, Sighting, TopicHit

LANGUAGES = ("en", "fa", "ar")
# written apart or with a ZWNJ: verb prefixes before, plural/verb/comparative endings after
PERSIAN_PREFIXES = frozenset({"می", "نمی", "بی", "همین", "همان"})
PERSIAN_SUFFIXES = frozenset({"اند", "ام", "ای", "ایم", "اید", "است", "ها", "های", "هایی", "هایش",
                              "تر", "ترین", "شان", "مان", "تان", "ی"})
_PERSIAN = re.compile("^[\u0600-\u06ff]+$")
_WORD = re.compile(r"\w+", re.UNICODE)


class BadOption(ValueError):
    """A query option that names nothing there is (exit 2, with the choices)."""


@dataclass(frozen=True)
class StoryHit:
    """A story's best-ranked search hit, with every source and outlet among the matches that
    carried it."""

    hit: SearchHit
    sources: tuple[str, ...]
    outlets: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """`monitor search --json`: the hit's fields, then its sources and outlets."""
        return {**asdict(self.hit), "sources": list(self.sources), "outlets": list(self.outlets)}


def check_filters(*, topics: Iterable[str], sources: Iterable[str], topic: str | None = None,
                  source: str | None = None, lang: str | None = None) -> None:
    known_topics, known_sources = sorted(topics), sorted(sources)
    if topic is not None and topic not in known_topics:
        raise BadOption(f"--topic {topic!r}: no such topic (topics: {', '.join(known_topics)})")
    if source is not None and source not in known_sources:
        near = [s for s in known_sources if source.lower() in s or s in source.lower()]
        raise BadOption(f"--source {source!r}: no such source id"
                        + (f" (did you mean {', '.join(near[:5])}?)" if near else
                           " (`monitor status` lists them)"))
    if lang is not None and lang not in LANGUAGES:
        raise BadOption(f"--lang {lang!r}: expected one of {', '.join(LANGUAGES)}")


def check_date(value: str) -> str:
    """An ISO date or time given to --since, validated (2026-13-40 is refused)."""
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadOption(f"--since {value!r}: not a date (use 2026-01-20, "
                        f"2026-01-20T08:00:00Z, or a span such as 24h or 7d)") from None
    return value


def join_persian_parts(tokens: Sequence[str]) -> list[str]:
    """FTS5 query tokens where a Persian prefix or ending written apart also matches the word
    written joined (the index drops ZWNJ): «کرده اند» -> («کرده اند» OR کردهاند)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        a = tokens[i]
        b = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (b and _PERSIAN.match(a) and _PERSIAN.match(b)
                and (a in PERSIAN_PREFIXES or b in PERSIAN_SUFFIXES)):
            out.append(f'("{a} {b}" OR {a}{b})')
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def terms_of(query: str) -> list[str]:
    """The plain words of a query, in search form (operators and syntax left out)."""
    words = _WORD.findall(search_form(query.replace("*", " ")))
    return [w for w in words if w.upper() not in ("AND", "OR", "NOT") and not
            w.upper().startswith("NEAR")]


def snippet(text: str, terms: Sequence[str], width: int = 14) -> str:
    """About `width` words of the stored text around the first matched word, the matches in
    [brackets], as published (case, ZWNJ and letter forms kept)."""
    words = text.split()
    if not words:
        return ""
    forms = [search_form(w) for w in words]
    joined = {"".join(pair) for pair in itertools.pairwise(terms)}

    def hit(form: str) -> bool:
        return any(form.startswith(t) for t in terms if t) or any(
            form.startswith(j) for j in joined)

    first = next((k for k, f in enumerate(forms) if hit(f)), 0)
    start = max(0, first - width // 3)
    shown = [f"[{w}]" if hit(forms[k]) else w
             for k, w in enumerate(words[start:start + width], start)]
    return ("… " if start else "") + " ".join(shown) + (
        " …" if start + width < len(words) else "")


def one_per_story(hits: Sequence[SearchHit], limit: int) -> list[StoryHit]:
    """The best-ranked hit of each story (hits come best first), with every source and outlet
    among the matches that carried it."""
    best: dict[Any, tuple[SearchHit, list[str], list[str]]] = {}
    for hit in hits:
        key = hit.story_id if hit.story_id is not None else ("item", hit.id)
        if key not in best:
            best[key] = (hit, [hit.source_id], [hit.outlet])
            continue
        _, sources, outlets = best[key]
        for kept, value in ((sources, hit.source_id), (outlets, hit.outlet)):
            if value not in kept:
                kept.append(value)
    return [StoryHit(hit, tuple(sources), tuple(outlets))
            for hit, sources, outlets in list(best.values())[:limit]]


def describe_sources(row: StoryHit) -> str:
    return one_line(", ".join(s for s in row.sources if s), 40)


def one_per_url(items: Sequence[Sighting]) -> list[tuple[Sighting, list[str]]]:
    """A story's sightings with one row per article, each with its sources: the same page seen
    through its outlet's feed and through an aggregator is one row naming both sources."""
    rows: dict[tuple[str, str], tuple[Sighting, list[str]]] = {}
    for item in items:
        key = (item.outlet, item.url or f"item:{item.id}")
        if key in rows:
            if item.source_id not in rows[key][1]:
                rows[key][1].append(item.source_id)
            continue
        rows[key] = (item, [item.source_id])
    return list(rows.values())


def story_topics(store: Store, item_id: int | None) -> tuple[TopicHit, ...]:
    return () if item_id is None else store.item_topics(item_id)
