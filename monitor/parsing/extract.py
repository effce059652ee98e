"""Article extraction: HTML -> title, author, date, text (trafilatura), inside worker processes.

trafilatura has no timeout, can take seconds on pathological pages and is not thread-safe, so
`extract_article` only ever runs in a `monitor.workers` process with a hard timeout. The parent
decodes bytes itself (trafilatura ignores ``<meta charset>``) and applies the cheap caps in
`precheck` before shipping a page to a worker. Options: ``include_comments=False`` (measured
better), trafilatura's own dedup cache off (ours is the authority), and metadata only when the
caller wants a field the feed entry lacks (`PAGE_FIELDS`): trafilatura's metadata search adds
about a fifth to its time on a heavy page and three quarters on a small one. Without it the
page's date, canonical URL and language still come from cheap regexes over its head, and the
headline the text may repeat is looked for in the entry's title and the page's <title>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

from monitor.matching.text import clean_stored, one_line, search_form
from monitor.parsing.dates import parse_any_date, parse_persian_date
from monitor.workers import task

# with_metadata as the pipeline uses it for a page whose entry lacks title, date or author
# (the benchmarks' floor and naive loop run these options as they are)
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "with_metadata": True,
    "deduplicate": False,
    "favor_precision": False,
}
# what trafilatura's metadata gives that the pipeline may need from a page
PAGE_FIELDS: tuple[str, ...] = ("title", "author", "published")
_PUBLISHED_META = re.compile(
    r"""<meta[^>]+(?:property|name|itemprop)\s*=\s*["'](?:article:published_time|datePublished|"""
    r"""pubdate|publish-date|date|dc\.date)["'][^>]*content\s*=\s*["']([^"']{6,40})["']""", re.I)
_TIME_TAG = re.compile(r"""<time[^>]+datetime\s*=\s*["']([^"']{6,40})["']""", re.I)
_TITLE_TAG = re.compile(r"<title[^>]*>([^<]{1,1000})</title", re.I)
_HTML_LANG = re.compile(r"""<html[^>]+lang\s*=\s*["']?([A-Za-z]{2,3})""", re.I)
_CANONICAL = re.compile(
    r"""<link[^>]+rel\s*=\s*["']canonical["'][^>]*href\s*=\s*["']([^"']+)["']|"""
    r"""<meta[^>]+property\s*=\s*["']og:url["'][^>]*content\s*=\s*["']([^"']+)["']""", re.I)

# printable (trafilatura keeps them) and practically never in news text: combining marks
ZWNJ_PLACEHOLDERS = ("\u034f", "\u1dfa", "\U0001e8d6")
_ZWNJ_IN_HTML = re.compile(r"\u200c|&zwnj;|&#0*8204;|&#x0*200c;", re.I)
# substrings one of which every match above contains: a page with none of them (most pages
# not in Persian) skips the case-blind scan, ~0.3 ms on a 60 KB page
_ZWNJ_HINTS = ("\u200c", "nj;", "nJ;", "Nj;", "NJ;", "8204;", "200c;", "200C;")


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
    `restore_zwnj` turns them back. Returns (page, placeholder); no placeholder for a page
    without any."""
    if not any(hint in html for hint in _ZWNJ_HINTS):
        return html, ""
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
def extract_article(html: str, url: str, fields: tuple[str, ...] = PAGE_FIELDS,
                    headline: str = "") -> Extracted | None:
    """Run trafilatura on a decoded page. None when it finds no main text. Worker-side only.
    `fields`: which of `PAGE_FIELDS` the caller needs from the page (trafilatura's metadata
    search runs only for them; a date found by the cheap regexes needs no search); the others
    come back empty. `headline`: the feed entry's title, a line the text may repeat."""
    import trafilatura  # imported in the worker (preloaded by the forkserver)

    head = html[:200_000]
    published = _published(head)
    wanted = {*fields} - ({"published"} if published else set())
    protected, mark = protect_zwnj(html)
    doc = trafilatura.bare_extraction(protected, url=url,
                                      **{**TRAFILATURA_OPTIONS, "with_metadata": bool(wanted)})
    if doc is None:
        return None
    meta = {k: restore_zwnj(v, mark) if isinstance(v, str) else v
            for k, v in (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)).items()}
    text = clean_stored(meta.get("text") or "").strip()
    if not text:
        return None
    lang = _HTML_LANG.search(head)
    if published is None and "published" in fields:
        published = _published_elsewhere(head, meta.get("date"), lang)
    title = one_line(meta.get("title") or "", 1000)
    text = _without_headline(text, title or _title_tag(head), headline)
    canonical = _CANONICAL.search(head)
    return Extracted(
        title=title, author=one_line(meta.get("author") or "", 200) or None,
        published=published, text=text,
        canonical_url=(canonical.group(1) or canonical.group(2)) if canonical else None,
        language=lang.group(1).lower() if lang else None,
    )


def _published_elsewhere(head: str, found: object, lang: re.Match[str] | None) -> str | None:
    """The date when the page's own date tags gave none: trafilatura's, or a Persian one in
    the text of a page in Persian."""
    moment = parse_any_date(str(found)) if found else None
    if moment is None and lang and lang.group(1).lower() == "fa":
        moment = parse_persian_date(re.sub(r"<[^>]+>", " ", head[:60_000]))
    return moment.isoformat() if moment else None


def _title_tag(head: str) -> str:
    m = _TITLE_TAG.search(head)
    return one_line(unescape(m.group(1)), 1000) if m else ""


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


def _without_headline(text: str, *titles: str) -> str:
    """Drop a first line that only repeats the headline, as the page's or the entry's title
    gives it (trafilatura keeps the <h1>)."""
    first, _, rest = text.partition("\n")
    if not rest.strip() or len(first) > 400:
        return text
    head = search_form(first)
    if head and any(head in search_form(title) for title in titles if title):
        return rest.strip()
    return text
