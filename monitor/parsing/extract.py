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

from monitor.matching.text import clean_stored, one_line, search_form
from monitor.parsing.dates import parse_any_date, parse_persian_date
from monitor.workers import task

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


@task("extract")
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


@dataclass(frozen=True)
class ArticleText:
    """The text an item keeps from its page and its feed entry, chosen in one place
    (`choose`): the page's text when it is at least as long as the feed's, else the feed's.
    `status`: ok (page text) | fallback (feed text) | timeout | empty | error."""

    title: str
    text: str
    status: str
    detail: str | None = None
    author: str | None = None
    published: str | None = None  # ISO-8601 from the page, when it gave one
    canonical_url: str | None = None  # as declared by the page (not yet absolute)


def choose(entry_title: str, feed_text: str, extracted: Extracted | None,
           failure: str | None = None, failure_status: str = "empty",
           page_title_first: bool = False) -> ArticleText:
    """The item's (title, text, status) from the extracted page (None if there is none, with
    `failure` saying why) and the feed entry's own title and text. The entry's title wins over
    the page's unless `page_title_first` (a revisit looks for a changed headline)."""
    meta: dict[str, Any] = {}
    if extracted is not None:
        meta = {"author": extracted.author, "published": extracted.published,
                "canonical_url": extracted.canonical_url}
        if len(extracted.text) >= len(feed_text):
            first, second = ((extracted.title, entry_title) if page_title_first
                             else (entry_title, extracted.title))
            title = first or second or one_line(extracted.text, 120)
            return ArticleText(clean_stored(title), clean_stored(extracted.text), "ok", **meta)
    title = clean_stored(entry_title or (extracted.title if extracted else "")
                         or one_line(feed_text, 120))
    if extracted is not None:
        return ArticleText(title, clean_stored(feed_text), "fallback",
                           "feed content longer than the extracted text", **meta)
    failure = failure or "no main text found on the page"
    if feed_text.strip():
        status = "timeout" if failure_status == "timeout" else "fallback"
        return ArticleText(title, clean_stored(feed_text), status, f"{failure}; feed text used")
    return ArticleText(title, "", failure_status, failure)


def _without_headline(text: str, title: str) -> str:
    """Drop a first line that only repeats the headline (trafilatura keeps the <h1>)."""
    first, _, rest = text.partition("\n")
    head = search_form(first)
    if rest.strip() and head and len(first) <= 400 and head in search_form(title):
        return rest.strip()
    return text
