"""Parsing: feeds and listing pages from self-describing fixtures, and crafted inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.errors import ParseError
from monitor.matching.text import normalize
from monitor.parsing.feeds import html_to_text, parse_feed, parse_listing, publisher_of
from tests.server import Reply

HOST = "news.example"


def fixture(name: str) -> Reply:
    return Reply.from_file(name, host=HOST)


def parse(name: str, url: str = f"http://{HOST}/feed") -> object:
    r = fixture(name)
    return parse_feed(r.body, r.headers.get("Content-Type", ""), url)


def test_rss2_entries_links_resolved_and_summary_cleaned() -> None:
    feed = parse("rss2_basic.xml")
    entries = feed.entries  # type: ignore[attr-defined]
    assert feed.ttl_minutes == 30  # type: ignore[attr-defined]
    first = entries[0]
    assert first.link == f"http://{HOST}/world/diplomat-defects-vienna-1.html"
    assert first.guid == "id-1" and first.summary == "A second-ranking diplomat asked for asylum."
    assert first.published == datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
    assert entries[1].link is None
    assert entries[2].link == "javascript:alert(1)"  # refused later, by the identity stage


def test_atom_with_content_and_offset_dates() -> None:
    e = parse("atom_basic.xml").entries[0]  # type: ignore[attr-defined]
    assert e.published == datetime(2026, 1, 20, 5, 30, tzinfo=UTC)
    assert e.updated == datetime(2026, 1, 20, 10, 0, tzinfo=UTC)
    assert e.author == "A. Writer" and "three refineries" in e.content
    assert "\n\n" in e.content  # paragraphs kept


def test_json_feed_adapter() -> None:
    e = parse("jsonfeed.json").entries[0]  # type: ignore[attr-defined]
    assert e.guid == "j1" and e.author == "J. Doe" and e.content.startswith("Teachers")


def test_windows_1256_without_charset_is_decoded() -> None:
    e = parse("windows1256_undeclared.xml").entries[0]  # type: ignore[attr-defined]
    assert normalize(e.title) == normalize("اعتراض کارگران نفت در آبادان ادامه دارد")
    assert e.published == datetime(2026, 1, 20, 8, 0, tzinfo=UTC)  # 30 Dey 1404, 11:30 IRST


def test_html_page_as_feed_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="HTML page where a feed was expected"):
        parse("html_as_feed.xml")


def test_truncated_feed_still_yields_its_complete_entries() -> None:
    feed = parse("truncated.xml")
    assert feed.entries[0].title == "Crackdown in Zahedan"  # type: ignore[attr-defined]
    assert feed.problem and "malformed" in feed.problem  # type: ignore[attr-defined]


@pytest.mark.parametrize("body", [b"", b"\xef\xbb\xbf", b"   \n"])
def test_empty_and_bom_only_bodies(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, "application/rss+xml", "http://x/")


@pytest.mark.parametrize("ref", ["&#xD800;", "&#x110000;", "&#99999999999;", "&#0;"])
def test_charrefs_that_make_feedparser_raise_are_neutralised(ref: str) -> None:
    body = (f'<rss version="2.0"><channel><item><title>a {ref} b</title>'
            f"<link>http://x/a-long-article-slug</link></item></channel></rss>").encode()
    entry = parse_feed(body, "application/rss+xml", "http://x/").entries[0]
    assert entry.title.startswith("a ") and entry.title.endswith(" b")


def test_nul_bytes_and_external_entities_are_harmless(tmp_path: object) -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<rss version="2.0"><channel><item><title>t\x00itle &x;</title>'
            b"<link>http://x/a</link></item></channel></rss>")
    feed = parse_feed(body, "application/rss+xml", "http://x/")
    assert all("root:" not in e.title for e in feed.entries)


def test_aggregator_entries_carry_their_publisher() -> None:
    body = (b'<rss version="2.0"><channel><item><title>t</title><link>https://www.paper.example/a</link>'
            b'<source url="https://www.paper.example/">The Paper</source></item>'
            b"<item><title>u</title><link>https://www.other.example/b</link></item></channel></rss>")
    entries = parse_feed(body, "application/rss+xml", "http://agg/").entries
    assert publisher_of(entries[0]) == "The Paper"
    assert publisher_of(entries[1]) == "other.example"


def test_listing_page_gives_same_site_article_links() -> None:
    r = fixture("listing.html")
    page = parse_listing(r.body, r.headers["Content-Type"], f"http://{HOST}/latest")
    links = [e.link for e in page.entries]
    assert links == [
        f"http://{HOST}/news/2026/01/iranian-consul-resigns-and-seeks-asylum",
        f"http://{HOST}/news/2026/01/bazaar-merchants-close-shops-again",
        f"http://{HOST}/news/2026/01/truckers-join-the-strike",
    ]
    assert page.entries[0].title == "Iranian consul resigns and seeks asylum"


def test_listing_without_articles_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_listing(b"<html><body><a href='/about'>About</a></body></html>", "text/html",
                      "http://x/")


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<p>one</p><p>two<br>three</p>") == "one\n\ntwo\nthree"


def test_huge_author_is_cut_before_feedparser_sees_it() -> None:
    """feedparser's author regex is quadratic (a 32 KB name took ~4 s): the bytes handed to
    feedparser hold at most 512 bytes of the name, cut without splitting a character."""
    from monitor.parsing.feeds import _AUTHOR_CAP, _prepare_xml

    name = "ن" * 20000  # two bytes each: the cut must not halve one
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
            f'<title>a</title><link>https://x.test/1</link><author>{name}</author></item>'
            '</channel></rss>').encode()
    prepared = _prepare_xml(body, "application/rss+xml")
    inside = prepared.split(b"<author>")[1].split(b"</author>")[0]
    assert 0 < len(inside) <= _AUTHOR_CAP
    assert set(inside.decode("utf-8")) == {"ن"}  # strict decode: no halved character
    entry = parse_feed(body, "application/rss+xml", "https://x.test/f").entries[0]
    assert entry.author and set(entry.author) <= {"ن", "…"}


def test_author_cut_keeps_the_feed_well_formed() -> None:
    """Prefixed names, CDATA and entities are cut too, without breaking the XML: the bytes
    feedparser gets are short in every author field and still well-formed XML."""
    import lxml.etree

    from monitor.parsing.feeds import _AUTHOR_CAP, _cut_authors

    body = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:a="http://www.w3.org/2005/Atom"><title>T</title><entry><title>x</title>'
            '<link href="https://x.test/1"/><a:author><a:name>' + "b&amp;" * 300 +
            '</a:name></a:author></entry><entry><title>y</title><link href="https://x.test/2"/>'
            '<author><name><![CDATA[' + "c<" * 400 + ']]></name></author></entry></feed>'
            ).encode()
    cut = _cut_authors(body)
    tree = lxml.etree.fromstring(cut)  # raises if the cut broke the XML
    names = [n.text or "" for n in tree.iter("{http://www.w3.org/2005/Atom}name")]
    assert len(names) == 2 and all(0 < len(n.encode()) <= _AUTHOR_CAP for n in names)
    assert names[0].startswith("b&b&") and names[1].startswith("c<c<")
    parsed = parse_feed(body, "application/atom+xml", "https://x.test/f")
    assert parsed.problem is None and len(parsed.entries) == 2
