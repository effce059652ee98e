"""Sitemaps as a source kind: bytes -> entries. Pure; runs inside worker processes.

* ``urlset`` (https://www.sitemaps.org/protocol.html) with optional Google News tags
  (``news:title``, ``news:publication_date``, ``news:language``) and ``lastmod``.
* ``sitemapindex``: the children (``<sitemap><loc>``) come back as `ParsedFeed.children`,
  newest ``lastmod`` first; the source kind fetches a bounded number of them.
* A gzip body (``.xml.gz`` files, served as ``application/gzip`` or ``application/x-gzip``;
  recognised by its magic bytes) is decompressed with a cap on the output.
* lxml with a hardened parser: no DTD loading, no entity expansion, no network, no huge trees.
* Bounded counts; entries newest first (undated last); each entry is keyed by its URL like a
  feed entry with a link and no GUID, so a URL already stored is never fetched again. The
  sitemap's ``lastmod`` is the entry's date, never its revision date: a bumped lastmod does
  not make a known article be downloaded again.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from urllib.parse import unquote, urlsplit

from lxml import etree

from monitor.errors import ParseError
from monitor.fetching.urls import is_http_url
from monitor.matching.text import one_line
from monitor.parsing.dates import parse_any_date
from monitor.parsing.feeds import Entry, ParsedFeed
from monitor.workers import task

MAX_DECODED = 20 * 1024 * 1024  # a sitemap may be 50 MB by the protocol; we read 20
MAX_URLS = 50_000  # the protocol's own limit per file
MAX_ENTRIES = 1_000  # kept per file after sorting, newest first
MAX_CHILDREN_LISTED = 500
_GZIP_MAGIC = b"\x1f\x8b"
_SLUG_SPLIT = re.compile(r"[-_+]+")
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False,
                   "dtd_validation": False, "huge_tree": False, "remove_comments": True,
                   "remove_pis": True}


def gunzip_bounded(body: bytes, limit: int = MAX_DECODED) -> bytes:
    """Decompress a gzip file, refusing to produce more than `limit` bytes."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ParseError(f"corrupt gzip sitemap: {exc}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise ParseError(f"gzip sitemap decompresses to more than {limit} bytes")
    return out


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str:
    for child in element.iter():
        if _local(child.tag) == name and child.text:
            return str(child.text).strip()
    return ""


def title_from_url(url: str) -> str:
    """A readable title from an article URL's last path segment (sitemaps without news:title):
    ``/2026/01/iran-oil-workers-strike`` -> ``iran oil workers strike``. Persian slugs are
    percent-encoded UTF-8 and come back as Persian words."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments):
        words = _SLUG_SPLIT.sub(" ", unquote(segment).rsplit(".", 1)[0]).strip()
        if words and not words.isdigit():
            return one_line(words, 300)
    return ""


def _root(body: bytes) -> etree._Element:
    if body[:2] == _GZIP_MAGIC:
        body = gunzip_bounded(body)
    if len(body) > MAX_DECODED:
        raise ParseError(f"sitemap over {MAX_DECODED} bytes")
    if not body.strip():
        raise ParseError("empty body where a sitemap was expected")
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not a sitemap: invalid XML ({one_line(str(exc), 120)})") from None
    if root is None:
        raise ParseError("not a sitemap: no document element")
    return root


def _newest_first(pairs: list[tuple[datetime | None, int]]) -> list[int]:
    dated = sorted((p for p in pairs if p[0] is not None), key=lambda p: p[0], reverse=True)  # type: ignore[arg-type,return-value]
    return [i for _, i in dated] + [i for d, i in pairs if d is None]


def _index(root: etree._Element) -> ParsedFeed:
    children: list[tuple[str, datetime | None]] = []
    for element in root:
        if _local(element.tag) != "sitemap":
            continue
        loc = _child_text(element, "loc")
        if is_http_url(loc):
            children.append((loc, parse_any_date(_child_text(element, "lastmod"))))
        if len(children) >= MAX_CHILDREN_LISTED:
            break
    order = _newest_first([(when, i) for i, (_, when) in enumerate(children)])
    return ParsedFeed(entries=[], kind="sitemapindex",
                      children=tuple(children[i][0] for i in order))


def _urlset(root: etree._Element) -> ParsedFeed:
    entries: list[Entry] = []
    skipped = 0
    for count, element in enumerate(root):
        if count >= MAX_URLS:
            skipped += 1
            continue
        if _local(element.tag) != "url":
            continue
        loc = _child_text(element, "loc")
        if not is_http_url(loc):
            continue
        published = (parse_any_date(_child_text(element, "publication_date"))
                     or parse_any_date(_child_text(element, "lastmod")))
        title = one_line(_child_text(element, "title"), 1000) or title_from_url(loc)
        entries.append(Entry(guid=None, link=loc, title=title, summary="", content="",
                             author=None, published=published, updated=None))
    order = _newest_first([(e.published, i) for i, e in enumerate(entries)])
    kept = [entries[i] for i in order[:MAX_ENTRIES]]
    problem = None
    if skipped or len(entries) > MAX_ENTRIES:
        problem = (f"sitemap has more URLs than read ({len(entries) + skipped}); the newest "
                   f"{len(kept)} kept")
    return ParsedFeed(entries=kept, kind="sitemap", problem=problem)


@task("parse_sitemap")
def parse_sitemap(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """A urlset (entries) or a sitemap index (children to fetch). Raises ParseError."""
    root = _root(body)
    name = _local(root.tag)
    if name == "sitemapindex":
        return _index(root)
    if name == "urlset":
        return _urlset(root)
    if name in ("rss", "feed", "html"):
        raise ParseError(f"not a sitemap: a {name} document (is this source kind 'feed'?)")
    raise ParseError(f"not a sitemap: the document element is <{name}>")
