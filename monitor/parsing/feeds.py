"""Feed and listing-page parsing: bytes + headers -> entries. Runs inside worker processes.

* RSS 0.9x/1.0/2.0 and Atom through feedparser, always on ``io.BytesIO`` (a str or bytes argument
  can make feedparser open a local file or URL) with ``content-location`` set so relative links
  resolve. The body is first re-encoded to UTF-8 by `monitor.fetching.decode` (mis-declared and
  undeclared encodings repaired), stripped of NUL bytes and of numeric character references
  that make feedparser raise (surrogates, out-of-range and huge code points).
* JSON Feed 1.x through a small adapter.
* An HTML listing page gives article links: same site, article-like paths, capped.

Everything here is pure (no I/O, no clock); the parent applies the time limit by running it in
a killable worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.html

from monitor.errors import ParseError
from monitor.fetching.decode import decode_document
from monitor.fetching.urls import absolutize, canonical_url, is_http_url, site_of
from monitor.matching.text import clean_stored, normalize, one_line
from monitor.parsing.dates import parse_any_date, parse_persian_date
from monitor.workers import task

MAX_LISTING_LINKS = 60
MAX_TTL_MINUTES = 7 * 24 * 60  # a feed's <ttl> is honoured up to a week
_CHARREF = re.compile(rb"&#([xX][0-9a-fA-F]{1,40}|[0-9]{1,40});")
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Entry:
    """One feed entry (or listing-page link), as parsed. Dates are UTC or None."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str  # plain text of the feed's own full content, if any
    author: str | None
    published: datetime | None
    updated: datetime | None
    publisher: str | None = None  # <source> element / aggregator publisher
    publisher_url: str | None = None
    raw_date: str | None = None  # a date string nobody could parse

    @property
    def feed_hash(self) -> str:
        """Hash of what the feed says about the entry; a change means the entry was revised."""
        link = self.link or ""
        if is_http_url(link):
            with contextlib.suppress(ValueError):
                link = canonical_url(link)  # rotating tracking parameters are not a revision
        basis = "\x1f".join([normalize(self.title), normalize(self.summary),
                             normalize(self.content), link])
        return hashlib.sha1(basis.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[Entry]
    title: str = ""
    ttl_minutes: int | None = None
    problem: str | None = None  # a tolerated defect (bozo), kept for the log
    kind: str = "feed"  # feed | json | page | sitemap | sitemapindex | telegram
    skipped: list[str] = field(default_factory=list)
    children: tuple[str, ...] = ()  # a sitemap index: its sitemaps, newest first
    older: str | None = None  # a Telegram preview: the page of older messages


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries and content), paragraphs kept."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return clean_stored(fragment).strip()
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return clean_stored(_TAGS.sub(" ", fragment)).strip()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    text = root.text_content()
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r"\n\s*\n\s*", "\n\n", text)
    return clean_stored(text).strip()


def _safe_charref(m: re.Match[bytes]) -> bytes:
    """Character references feedparser would raise on (surrogates, > U+10FFFF, NUL) -> U+FFFD."""
    ref = m.group(1)
    code = int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return m.group(0)


# feedparser looks for an e-mail address in author fields with a regex that is quadratic in the
# field's length (a 32 KB <author> costs ~4 s): names longer than this are cut before parsing
_AUTHOR_CAP = 512
_AUTHOR_OPEN = re.compile(
    rb"<(?:[\w.-]+:)?(?:author|creator|managingEditor|webMaster|name|email)\b[^>/]*>")
_PARTIAL_ENTITY = re.compile(rb"&[^;<]*$")


def _cut_authors(data: bytes) -> bytes:
    """Cut the text (or CDATA) right inside author-like elements to `_AUTHOR_CAP` bytes,
    keeping the XML well formed (no halved character or entity, CDATA still closed)."""
    out: list[bytes] = []
    pos = 0
    for m in _AUTHOR_OPEN.finditer(data):
        start = m.end()
        if start < pos:
            continue
        cdata = data.startswith(b"<![CDATA[", start)
        body_start = start + 9 if cdata else start
        end = data.find(b"]]>" if cdata else b"<", body_start)
        if end == -1 or end - body_start <= _AUTHOR_CAP:
            continue
        piece = _utf8_prefix(data[body_start:end], _AUTHOR_CAP)
        if not cdata:
            piece = _PARTIAL_ENTITY.sub(b"", piece)
        out += [data[pos:body_start], piece]
        pos = end
    if not out:
        return data
    out.append(data[pos:])
    return b"".join(out)


def _utf8_prefix(data: bytes, limit: int) -> bytes:
    """The first `limit` bytes, without a character cut in half at the end."""
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")


def _prepare_xml(body: bytes, content_type: str) -> bytes:
    text, _ = decode_document(body, content_type, xml=True)
    data = text.replace("\x00", "").encode("utf-8", "replace")
    data = _CHARREF.sub(_safe_charref, data)
    data = _cut_authors(data)
    return _XML_DECL.sub(b'<?xml version="1.0" encoding="utf-8"?>', data, count=1)


def _struct_to_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        year, month, day, hour, minute, second = (int(x) for x in value[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _entry_date(e: Any, parsed_key: str, raw_key: str) -> tuple[datetime | None, str | None]:
    raw = dict.get(e, raw_key)  # plain dict access: no deprecated updated->published mapping
    # feedparser reads a Solar Hijri "1404/10/25" as a Gregorian date: ours comes first
    moment = parse_persian_date(raw) if isinstance(raw, str) else None
    moment = moment or _struct_to_dt(dict.get(e, parsed_key))
    if moment is None and isinstance(raw, str) and raw.strip():
        moment = parse_any_date(raw)
        if moment is None:
            return None, one_line(raw, 80)
    return moment, None


def _feedparser_entry(e: Any) -> Entry:
    content_html = ""
    for part in e.get("content") or []:
        if isinstance(part, dict) and len(part.get("value") or "") > len(content_html):
            content_html = part["value"]
    published, raw_pub = _entry_date(e, "published_parsed", "published")
    updated, raw_upd = _entry_date(e, "updated_parsed", "updated")
    source = e.get("source") or {}
    link = e.get("link")
    if not link:
        for candidate in e.get("links") or []:
            if isinstance(candidate, dict) and candidate.get("rel", "alternate") == "alternate":
                link = candidate.get("href")
                break
    return Entry(
        guid=(e.get("id") or e.get("guid") or None),
        link=link or None,
        title=one_line(html_to_text(e.get("title") or ""), 1000),
        summary=html_to_text(e.get("summary") or "")[:20000],
        content=html_to_text(content_html)[:200000],
        author=one_line(e.get("author") or "", 200) or None,
        published=published or updated,
        updated=updated,
        publisher=one_line(source.get("title") or "", 200) or None,
        publisher_url=source.get("href") or source.get("link") or None,
        raw_date=raw_pub or raw_upd,
    )


@task("parse_feed")
def parse_feed(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """Parse an RSS/Atom/JSON feed. Raises ParseError when the body is not a usable feed."""
    stripped = body.lstrip()[:1]
    if "json" in content_type.lower() or stripped in (b"{", b"["):
        return parse_json_feed(body, url)
    if not body.strip():
        raise ParseError("empty body where a feed was expected")
    data = _prepare_xml(body, content_type)
    headers = {"content-location": url, "content-type": "application/xml; charset=utf-8"}
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers,
                                  sanitize_html=True, resolve_relative_uris=True)
    except Exception as exc:  # feedparser raises on a few crafted inputs; see DESIGN.md §5
        raise ParseError(f"feed parser failed: {type(exc).__name__}") from None
    version = parsed.get("version") or ""
    entries = [_feedparser_entry(e) for e in parsed.get("entries", [])]
    if not version and not entries:
        looks_html = b"<html" in data[:2048].lower() or b"<!doctype html" in data[:2048].lower()
        if looks_html:
            raise ParseError("an HTML page where a feed was expected")
        reason = ""
        if parsed.get("bozo"):
            reason = f" ({type(parsed.get('bozo_exception')).__name__})"
        raise ParseError(f"not a feed: no RSS, Atom or JSON Feed structure found{reason}")
    problem = None
    if parsed.get("bozo"):
        bozo = parsed.get("bozo_exception")
        problem = one_line(f"malformed feed tolerated: {type(bozo).__name__}: {bozo}", 200)
    ttl = None
    raw_ttl = (parsed.get("feed") or {}).get("ttl")
    if isinstance(raw_ttl, str) and raw_ttl.strip().isascii() and raw_ttl.strip().isdigit():
        digits = raw_ttl.strip().lstrip("0") or "0"  # 400 digits: a week, never an overflow
        ttl = MAX_TTL_MINUTES if len(digits) > 6 else min(int(digits), MAX_TTL_MINUTES)
    title = one_line((parsed.get("feed") or {}).get("title") or "", 200)
    return ParsedFeed(entries=entries, title=title, ttl_minutes=ttl, problem=problem)


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) -> entries."""
    text, _ = decode_document(body, "application/json")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ParseError("invalid JSON where a JSON feed was expected") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
            "https://jsonfeed.org/version/"):
        raise ParseError("JSON that is not a JSON Feed")
    entries: list[Entry] = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")),
                      None)
        published = parse_any_date(str(item.get("date_published") or ""))
        updated = parse_any_date(str(item.get("date_modified") or ""))
        entries.append(Entry(
            guid=str(item["id"]) if item.get("id") is not None else None,
            link=absolutize(item.get("url") or item.get("external_url"), url),
            title=one_line(str(item.get("title") or ""), 1000),
            summary=html_to_text(str(item.get("summary") or ""))[:20000],
            content=(html_to_text(str(item.get("content_html") or ""))
                     or clean_stored(str(item.get("content_text") or "")))[:200000],
            author=one_line(author, 200) if author else None,
            published=published or updated,
            updated=updated,
        ))
    return ParsedFeed(entries=entries, title=one_line(str(data.get("title") or ""), 200),
                      kind="json")


# -- listing pages ------------------------------------------------------------------------------

_NOT_ARTICLE = re.compile(
    r"/(tag|tags|category|categories|section|author|authors|topic|topics|page|search|login|"
    r"register|subscribe|account|about|contact|privacy|terms|cookie|newsletter|video|videos|"
    r"podcast|feed|rss)(/|$)", re.I)
_ASSET = re.compile(r"\.(jpg|jpeg|png|gif|svg|webp|css|js|pdf|mp3|mp4|zip|xml)$", re.I)


def _article_like(path: str) -> bool:
    if _NOT_ARTICLE.search(path) or _ASSET.search(path):
        return False
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    last = segments[-1]
    return (any(ch.isdigit() for ch in path) and len(segments) >= 2) or last.count("-") >= 2 \
        or len(last) >= 24


def html_root(body: bytes, content_type: str, what: str) -> Any:
    """An HTML body decoded and parsed by lxml; `ParseError` naming `what` when it is empty or
    unparsable."""
    text, _ = decode_document(body, content_type)
    if not text.strip():
        raise ParseError(f"empty {what}")
    try:
        return lxml.html.document_fromstring(text.replace("\x00", ""))
    except (ValueError, lxml.etree.ParserError) as exc:
        raise ParseError(f"unparsable {what}: {exc}") from None


@task("parse_listing")
def parse_listing(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """Article links of an HTML listing page: same site, article-like paths, at most 60."""
    root = html_root(body, content_type, "listing page")
    site = site_of(url)
    seen: set[str] = set()
    entries: list[Entry] = []
    skipped: list[str] = []
    for anchor in root.iter("a"):
        link = absolutize(anchor.get("href"), url)
        if link is None:
            continue
        link = link.split("#", 1)[0]
        host = site_of(link)
        if host != site and not host.endswith("." + site):
            continue
        if link in seen or not _article_like(urlsplit(link).path):
            continue
        seen.add(link)
        title = one_line(anchor.text_content(), 500)
        if len(title) < 8:
            continue
        if len(entries) >= MAX_LISTING_LINKS:
            skipped.append(link)
            continue
        entries.append(Entry(guid=None, link=link, title=title, summary="", content="",
                             author=None, published=None, updated=None))
    if not entries:
        raise ParseError("no article links found on the listing page")
    page_title = root.findtext(".//title") or ""
    return ParsedFeed(entries=entries, title=one_line(page_title, 200), kind="page",
                      skipped=skipped)


def publisher_of(entry: Entry) -> str | None:
    """For aggregator feeds: the entry's publisher (its <source>), else the link's site."""
    if entry.publisher:
        return entry.publisher
    if entry.publisher_url:
        return site_of(entry.publisher_url) or None
    return site_of(entry.link) if entry.link else None

