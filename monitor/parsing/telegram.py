"""Public Telegram channels as a source kind: the web preview ``https://t.me/s/NAME`` -> entries.

Pure; runs inside worker processes. The preview is server-rendered HTML: one
``div.tgme_widget_message`` with a ``data-post="NAME/123"`` attribute per message, its text in
``div.tgme_widget_message_text``, its time in ``time[datetime]``, a link preview in
``a.tgme_widget_message_link_preview``, media in photo/video/document blocks (a caption is
rendered as the message text), and a paging link
``a.tme_messages_more[data-before]`` (``?before=ID``) to older messages.

Each message is one entry: the GUID is its permanent link ``https://t.me/NAME/123``; the text
is its content; the link is the first article it links (the link preview, else the first
outside link in the text), else the permanent link itself. `links_article` tells the two apart:
a message that links no article is stored with its own text and nothing is downloaded.
An edited message (the preview marks it "edited" and shows the new text) keeps its GUID with a
different text: the entry's feed hash changes and the item is revised, its old text kept in
``item_versions``.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import lxml.html

from monitor.errors import ParseError
from monitor.fetching.urls import is_http_url
from monitor.matching.text import clean_stored, one_line
from monitor.parsing.dates import parse_any_date
from monitor.parsing.feeds import Entry, ParsedFeed, html_root
from monitor.workers import task

TELEGRAM_HOSTS = ("t.me", "telegram.me", "telegram.dog")
MAX_MESSAGES = 200
_POST = re.compile(r"^[A-Za-z0-9_]{3,64}/[0-9]{1,12}$")
_MEDIA = (("tgme_widget_message_photo_wrap", "photo"), ("tgme_widget_message_video", "video"),
          ("tgme_widget_message_roundvideo", "video"), ("tgme_widget_message_voice", "voice"),
          ("tgme_widget_message_document", "document"), ("tgme_widget_message_poll", "poll"),
          ("tgme_widget_message_sticker", "sticker"))


def _first(element: lxml.html.HtmlElement, css_class: str) -> lxml.html.HtmlElement | None:
    found = element.find_class(css_class)
    return found[0] if found else None


def _text_of(element: lxml.html.HtmlElement | None) -> str:
    """Visible text with line breaks kept (Telegram renders newlines as <br>)."""
    if element is None:
        return ""
    for br in element.iter("br"):
        br.tail = "\n" + (br.tail or "")
    text = element.text_content()
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return clean_stored(re.sub(r"\s*\n\s*", "\n", text)).strip()


def is_telegram(url: str | None) -> bool:
    host = (urlsplit(url or "").hostname or "").lower()
    return host in TELEGRAM_HOSTS


def links_article(entry: Entry) -> bool:
    """Whether the message's link is an article to download (not the message's own page)."""
    return bool(entry.link) and entry.link != entry.guid and not is_telegram(entry.link)


def _outside_links(text_el: lxml.html.HtmlElement | None, base: str) -> list[str]:
    if text_el is None:
        return []
    out = []
    for a in text_el.iter("a"):
        raw = str(a.get("href") or "").strip()
        if raw.startswith(("?", "#")):  # hashtag searches within the channel
            continue
        href = urljoin(base, raw)
        if is_http_url(href) and not is_telegram(href) and href not in out:
            out.append(href)
    return out


def _media(message: lxml.html.HtmlElement) -> list[str]:
    return [name for css, name in _MEDIA if message.find_class(css)]


def _message(message: lxml.html.HtmlElement, base: str) -> Entry | None:
    post = message.get("data-post") or ""
    if not _POST.match(post) or "service_message" in (message.get("class") or ""):
        return None
    permalink = f"https://t.me/{post}"
    text_el = _first(message, "tgme_widget_message_text")
    text = _text_of(text_el)
    preview = _first(message, "tgme_widget_message_link_preview")
    preview_title = _text_of(_first(preview, "link_preview_title")) if preview is not None else ""
    preview_text = (_text_of(_first(preview, "link_preview_description"))
                    if preview is not None else "")
    links = _outside_links(text_el, base)
    preview_href = urljoin(base, preview.get("href") or "") if preview is not None else ""
    if is_http_url(preview_href) and not is_telegram(preview_href):
        links.insert(0, preview_href)
    media = _media(message)
    time_el = message.find(".//time[@datetime]")
    published = parse_any_date(time_el.get("datetime") or "") if time_el is not None else None
    title = one_line(text.split("\n", 1)[0], 200) if text else (
        preview_title or (f"[{', '.join(media)}]" if media else "[message]"))
    summary = "\n\n".join(p for p in (text, preview_title, preview_text) if p)
    author_el = _first(message, "tgme_widget_message_from_author")
    return Entry(
        guid=permalink, link=links[0] if links else permalink, title=title,
        summary=summary[:20000], content=text[:200000],
        author=one_line(author_el.text_content(), 200) if author_el is not None else None,
        published=published, updated=None,
    )


def _older_page(root: lxml.html.HtmlElement, base: str) -> str | None:
    for a in root.find_class("tme_messages_more"):
        before = str(a.get("data-before") or "")
        href = str(a.get("href") or "")
        if "before=" in href:
            return urljoin(base, href)
        if before and before.isdigit():
            return urljoin(base, f"{urlsplit(base).path}?before={before}")
    for link in root.iter("link"):
        href = str(link.get("href") or "")
        if link.get("rel") == "prev" and "before=" in href:
            return urljoin(base, href)
    return None


@task("parse_telegram")
def parse_telegram(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """Messages of a channel's web preview, newest first, and the link to older ones."""
    root = html_root(body, content_type, "Telegram preview page")
    messages = root.xpath("//div[@data-post]")
    entries = [e for m in messages[-MAX_MESSAGES:] if (e := _message(m, url)) is not None]
    if not entries:
        if root.find_class("tgme_channel_info") or root.find_class("tgme_page"):
            raise ParseError("a Telegram page without messages (private channel, or no "
                             "public preview: is the URL https://t.me/s/NAME?)")
        raise ParseError("not a Telegram channel preview: no messages found")
    entries.reverse()  # the page lists oldest first
    title_el = _first(root, "tgme_channel_info_header_title")
    title = _text_of(title_el) or (root.findtext(".//title") or "")
    return ParsedFeed(entries=entries, title=one_line(title, 200), kind="telegram",
                      older=_older_page(root, url))


def newest(entries: list[Entry]) -> datetime | None:
    dates = [e.published for e in entries if e.published is not None]
    return max(dates) if dates else None
