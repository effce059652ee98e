"""Article extraction: HTML -> title, author, date, text (trafilatura), inside worker processes.

trafilatura has no timeout, can take seconds on pathological pages and is not thread-safe, so
`extract_article` only ever runs in a `monitor.workers` process with a hard timeout. The parent
decodes bytes itself (trafilatura ignores ``<meta charset>``) and applies the cheap caps in
`precheck` before shipping a page to a worker. Options: ``include_comments=False`` (measured
better), metadata on, trafilatura's own dedup cache off (ours is the authority).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from monitor.dates import parse_any_date, parse_persian_date
from monitor.text import clean_stored, one_line, search_form

TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "with_metadata": True,
    "deduplicate": False,
    "favor_precision": False,
}
_PUBLISHED_META = re.compile(
    r"""<meta[^>]+(?:property|name|itemprop)\s*=\s*["'](?:article:published_time|datePublished|"""
    r"""pubdate|publish-date|date|dc\.date)["'][^>]*content\s*=\s*["']([^"']{6,40})["']""", re.I)
_TIME_TAG = re.compile(r"""<time[^>]+datetime\s*=\s*["']([^"']{6,40})["']""", re.I)
_HTML_LANG = re.compile(r"""<html[^>]+lang\s*=\s*["']?([A-Za-z]{2,3})""", re.I)
_CANONICAL = re.compile(
    r"""<link[^>]+rel\s*=\s*["']canonical["'][^>]*href\s*=\s*["']([^"']+)["']|"""
    r"""<meta[^>]+property\s*=\s*["']og:url["'][^>]*content\s*=\s*["']([^"']+)["']""", re.I)

# printable (trafilatura keeps them) and practically never in news text: combining marks
ZWNJ_PLACEHOLDERS = ("\u034f", "\u1dfa", "\U0001e8d6")
_ZWNJ_IN_HTML = re.compile(r"\u200c|&zwnj;|&#0*8204;|&#x0*200c;", re.I)


@dataclass(frozen=True)
class Extracted:
    title: str
    author: str | None
    published: str | None  # ISO-8601 (UTC) or None
    text: str
    canonical_url: str | None
    language: str | None


def precheck(html: str, max_bytes: int, max_elements: int) -> str | None:
    """Why a page must not be given to the extractor, or None when it may."""
    if len(html) > max_bytes:
        return f"page of {len(html)} characters is over the {max_bytes} extraction cap"
    elements = html.count("<")
    if elements > max_elements:
        return f"page with ~{elements} tags is over the {max_elements}-element extraction cap"
    return None


def protect_zwnj(html: str) -> tuple[str, str]:
    """trafilatura's clean-up strips U+200C (and every other non-printable character), which
    every Persian compound needs: hand it the page with each ZWNJ, literal or as a character
    reference, turned into a printable placeholder that the page does not contain, and
    `restore_zwnj` turns them back. Returns (page, placeholder)."""
    mark = next((c for c in ZWNJ_PLACEHOLDERS if c not in html), "")
    return (_ZWNJ_IN_HTML.sub(mark, html) if mark else html), mark


def restore_zwnj(text: str, mark: str) -> str:
    return text.replace(mark, "\u200c") if mark else text


def _published(html: str) -> str | None:
    head = html[:200_000]
    for pattern in (_PUBLISHED_META, _TIME_TAG):
        m = pattern.search(head)
        if m:
            moment = parse_any_date(m.group(1))
            if moment is not None:
                return moment.isoformat()
    return None


def extract_article(html: str, url: str) -> Extracted | None:
    """Run trafilatura on a decoded page. None when it finds no main text. Worker-side only."""
    import trafilatura  # imported in the worker (preloaded by the forkserver)

    protected, mark = protect_zwnj(html)
    doc = trafilatura.bare_extraction(protected, url=url, **TRAFILATURA_OPTIONS)
    head = html[:200_000]
    lang = _HTML_LANG.search(head)
    canonical = _CANONICAL.search(head)
    if doc is None:
        return None
    meta = {k: restore_zwnj(v, mark) if isinstance(v, str) else v
            for k, v in (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)).items()}
    text = clean_stored(meta.get("text") or "").strip()
    if not text:
        return None
    published = _published(html)
    if published is None and meta.get("date"):
        moment = parse_any_date(str(meta["date"]))
        published = moment.isoformat() if moment else None
    if published is None and lang and lang.group(1).lower() == "fa":
        moment = parse_persian_date(re.sub(r"<[^>]+>", " ", head[:60_000]))
        published = moment.isoformat() if moment else None
    title = one_line(meta.get("title") or "", 1000)
    text = _without_headline(text, title)
    author = one_line(meta.get("author") or "", 200) or None
    return Extracted(
        title=title, author=author, published=published, text=text,
        canonical_url=(canonical.group(1) or canonical.group(2)) if canonical else None,
        language=lang.group(1).lower() if lang else None,
    )


def page_text(entry_title: str, feed_text_chars: int,
              extracted: Extracted) -> tuple[str, str] | None:
    """The (title, text) an item takes from its extracted page, or None when the feed's own
    text is longer and wins. Used by the main process and by the worker that analyses the
    page right after extracting it, so both arrive at the same strings."""
    if len(extracted.text) < feed_text_chars:
        return None
    title = entry_title or extracted.title or one_line(extracted.text, 120)
    return clean_stored(title), clean_stored(extracted.text)


def _without_headline(text: str, title: str) -> str:
    """Drop a first line that only repeats the headline (trafilatura keeps the <h1>)."""
    first, _, rest = text.partition("\n")
    head = search_form(first)
    if rest.strip() and head and len(first) <= 400 and head in search_form(title):
        return rest.strip()
    return text
