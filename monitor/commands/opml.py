"""OPML 2.0 (http://opml.org/spec2.opml) in and out: `monitor sources import` and `export`.

Reading uses lxml with the hardened parser of the sitemaps (no DTD, no entities, no network).
An outline with an ``xmlUrl`` is a subscription; the titles of the outlines around it are its
category ("Iran/Human rights"). Exported feeds are ``type="rss"`` outlines; the other kinds
(page, sitemap, telegram), which feed readers cannot poll, are ``type="link"`` outlines with a
``url`` and the kind in a ``feedMonitorKind`` attribute, so an export imports back unchanged.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from monitor.configuration.sources import KINDS, SourceConfig
from monitor.errors import ParseError
from monitor.matching.text import one_line
from monitor.parsing.sitemaps import _PARSER_OPTIONS
from monitor.parsing.telegram import is_telegram

MAX_OPML_BYTES = 5 * 1024 * 1024
MAX_OUTLINES = 5_000


@dataclass(frozen=True)
class Subscription:
    title: str
    url: str
    kind: str
    category: str | None
    language: str | None


def read_opml(data: bytes) -> list[Subscription]:
    if len(data) > MAX_OPML_BYTES:
        raise ParseError(f"OPML file over {MAX_OPML_BYTES} bytes")
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not valid OPML: {one_line(str(exc), 120)}") from None
    if root is None or root.tag != "opml" or root.find("body") is None:
        raise ParseError("not OPML: no <opml> document with a <body>")
    out: list[Subscription] = []
    for outline in root.find("body").iter("outline"):
        if len(out) >= MAX_OUTLINES:
            break
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        kind = outline.get("feedMonitorKind") or "feed"
        if not url and outline.get("type") == "link":
            url = (outline.get("url") or "").strip()
        if is_telegram(url) and "/s/" in url:
            kind = "telegram"
        if not url or kind not in KINDS:
            continue
        parents = [p.get("title") or p.get("text") or "" for p in outline.iterancestors("outline")]
        category = "/".join(reversed([p.strip() for p in parents if p.strip()])) or None
        title = one_line(outline.get("title") or outline.get("text") or url, 200)
        out.append(Subscription(title, url, kind, category, outline.get("language")))
    return out


def write_opml(sources: list[SourceConfig], now: datetime | None = None) -> bytes:
    """The sources as OPML 2.0, grouped by category (else affiliation)."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = "feed-monitor sources"
    etree.SubElement(head, "dateCreated").text = email.utils.format_datetime(
        now or datetime.now(UTC))
    body = etree.SubElement(opml, "body")
    groups: dict[str, etree._Element] = {}
    for s in sources:
        name = s.category or s.affiliation or "uncategorised"
        group = groups.get(name)
        if group is None:
            group = groups[name] = etree.SubElement(body, "outline", text=name, title=name)
        attrs = {"text": s.name, "title": s.name, "language": s.language,
                 "category": "/" + name}
        if s.kind == "feed":
            attrs.update(type="rss", xmlUrl=s.url)
        else:
            attrs.update(type="link", url=s.url, feedMonitorKind=s.kind)
        etree.SubElement(group, "outline", attrs)
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))
