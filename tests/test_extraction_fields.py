"""Metadata only where the feed entry lacks it: trafilatura's metadata search (title, author,
date) runs in the worker only for the fields the pipeline still needs; everything else the page
gives (its date tags, canonical URL, language, the headline the text repeats) stays as it was.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from monitor.parsing.extract import PAGE_FIELDS, extract_article
from monitor.service.app import poll_sources, running
from monitor.workers import WorkerPool
from tests.conftest import MakeSettings, source_toml
from tests.server import Reply, TestServer

STORY = ("The port workers' union said its members would stay away from the docks until the "
         "unpaid wages of the last four months were settled in full. ")
URL = "https://news.example.com/world/strike"


def page(h1: str = "Dock workers strike in Bandar Abbas", title: str | None = None,
         published: str | None = "2026-02-03T04:05:06Z") -> str:
    date = (f"<meta property='article:published_time' content='{published}'>"
            if published else "")
    return (f"<!DOCTYPE html><html lang='en'><head><title>{title or h1} | The Outlet</title>"
            f"{date}<meta name='author' content='Leila Rahimi'>"
            f"<link rel='canonical' href='{URL}'></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{h1}</h1>"
            + "".join(f"<p>{STORY}Paragraph {i}.</p>" for i in range(6))
            + "</article><footer>Copyright The Outlet</footer></body></html>")


def test_without_metadata_the_cheap_fields_stay_and_the_headline_is_still_dropped() -> None:
    full = extract_article(page(), URL)
    bare = extract_article(page(), URL, (), "Dock workers strike in Bandar Abbas")
    assert full is not None and bare is not None
    assert full.title.startswith("Dock workers strike") and full.author == "Leila Rahimi"
    assert bare.title == "" and bare.author is None
    assert bare.published == full.published == "2026-02-03T04:05:06+00:00"
    assert (bare.canonical_url, bare.language) == (full.canonical_url, full.language) == (URL, "en")
    assert bare.text == full.text and bare.text.startswith(STORY.strip())


def test_the_headline_is_dropped_when_only_the_page_title_repeats_it() -> None:
    """An entry titled otherwise than the page's <h1>: the page's <title> still names it."""
    bare = extract_article(page(), URL, (), "Port strike")
    assert bare is not None and bare.text.startswith(STORY.strip())


def test_a_date_the_page_tags_give_needs_no_metadata_search() -> None:
    dated = extract_article(page(), URL, ("published",))
    undated = extract_article(page(published=None), URL, ("published",))
    assert dated is not None and dated.title == ""  # the search did not run
    assert undated is not None and undated.title  # it ran, for the date
    assert undated.published is None  # the page has none anywhere


def feed(entries: list[tuple[str, str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Tue, 03 Feb 2026 04:05:06 GMT</pubDate>{author}</item>"
        for title, link, author in entries)
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>Outlet</title>"
            f"<link>http://x/</link>{items}</channel></rss>").encode()


def test_the_pipeline_asks_the_page_only_for_what_the_entry_lacks(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    a = server.route("/a", Reply(200, html, page("Dock workers strike").encode()))
    b = server.route("/b", Reply(200, html, page("Dockers walk out").encode()))
    server.route("/feed", Reply(200, {"Content-Type": "application/rss+xml"}, feed([
        ("Dock workers strike", a, "<dc:creator>Desk Editor</dc:creator>"),
        ("Dockers walk out", b, "")])))
    settings = make_settings(source_toml("port", server.url("/feed")))
    asked: dict[str, tuple[str, ...]] = {}

    class RecordingPool(WorkerPool):  # the real pool, noting what each article task asks for
        async def run(self, task: str, *args: Any, **kwargs: Any) -> Any:
            if task == "article":
                asked[args[1]] = args[-1]
            return await super().run(task, *args, **kwargs)

    async def main() -> None:
        pool = RecordingPool(1)
        try:
            async with running(settings, pool=pool) as deps:
                await poll_sources(deps, ["port"])
        finally:
            await pool.close()

    asyncio.run(main())
    assert asked == {a: (), b: ("author",)}
    assert set(asked[b]) <= set(PAGE_FIELDS)
    conn = sqlite3.connect(tmp_path / "test.db")
    rows = dict(conn.execute("SELECT title, author FROM items").fetchall())
    conn.close()
    assert rows == {"Dock workers strike": "Desk Editor", "Dockers walk out": "Leila Rahimi"}
