"""Sitemaps and Telegram channel previews as source kinds: the parsers on hand-written fixtures,
then whole source runs against a real loopback server and a real SQLite file."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest

from monitor.configuration.sources import KINDS
from monitor.errors import ParseError
from monitor.parsing.sitemaps import MAX_ENTRIES, gunzip_bounded, parse_sitemap, title_from_url
from monitor.parsing.telegram import links_article, parse_telegram
from monitor.polling.source_kinds import KIND
from tests.conftest import MakeSettings
from tests.server import FIXTURES, Reply, TestServer
from tests.test_pipeline import HTML, article_html, poll

SOURCES = FIXTURES / "sources"
XML = {"Content-Type": "application/xml; charset=utf-8"}
GZ = {"Content-Type": "application/x-gzip"}


def fixture(name: str, base: str = "http://127.0.0.1:9") -> bytes:
    return (SOURCES / name).read_text(encoding="utf-8").replace("{base}", base).encode()


def source(id: str, kind: str, url: str, scope: str = "topic", language: str = "en") -> str:
    return (f'[[source]]\nid = "{id}"\nname = "{id}"\nkind = "{kind}"\nurl = "{url}"\n'
            f'language = "{language}"\noutlet = "{id}"\nscope = "{scope}"\n'
            f'affiliation = "independent"\ncountry = "GB"\n')


def test_every_configured_kind_is_one_registered_object() -> None:
    assert tuple(KIND) == KINDS
    assert KIND["sitemap"].parse_task == "parse_sitemap" and not KIND["sitemap"].conditional
    assert KIND["telegram"].robots_listing and not KIND["feed"].robots_listing


# -- sitemaps -----------------------------------------------------------------------------------


def test_news_sitemap_entries_newest_first_with_news_titles() -> None:
    parsed = parse_sitemap(fixture("sitemap_news.xml"), "application/xml", "http://h/s.xml")
    assert [e.published.isoformat() for e in parsed.entries if e.published] == [
        "2026-01-20T09:45:00+00:00", "2026-01-20T07:00:00+00:00", "2026-01-19T18:00:00+00:00"]
    first, weather, persian = parsed.entries
    assert first.title == "Iranian diplomat in Frankfurt defects and asks for asylum"
    assert weather.title == "snow closes mountain roads north"  # no news:title: from the URL
    assert persian.title.startswith("اعتصاب کارگران نفت")
    assert all(e.guid is None and e.updated is None for e in parsed.entries)


def test_sitemap_index_lists_children_by_lastmod() -> None:
    parsed = parse_sitemap(fixture("sitemap_index.xml", "http://h"), "text/xml", "http://h/i")
    assert parsed.entries == [] and parsed.children == (
        "http://h/sitemaps/news-today.xml.gz", "http://h/sitemaps/archive-2025.xml.gz",
        "http://h/sitemaps/video-2019.xml", "http://h/sitemaps/pages.xml")  # undated last


def test_sitemap_entities_are_not_expanded_and_files_not_read() -> None:
    parsed = parse_sitemap(fixture("sitemap_archive.xml"), "application/xml", "http://h/a")
    links = [e.link or "" for e in parsed.entries]
    assert links and all("aaaa" not in link and "root:" not in link for link in links)


def test_gzip_sitemaps_are_decompressed_with_a_cap() -> None:
    body = gzip.compress(fixture("sitemap_news.xml"))
    assert len(parse_sitemap(body, "application/gzip", "http://h/s.xml.gz").entries) == 3
    bomb = gzip.compress(b"<urlset>" + b" " * 30_000_000 + b"</urlset>")
    with pytest.raises(ParseError, match="decompresses to more than"):
        parse_sitemap(bomb, "application/gzip", "http://h/bomb.xml.gz")
    with pytest.raises(ParseError, match="corrupt gzip"):
        gunzip_bounded(b"\x1f\x8b" + b"nonsense" * 10)
    assert gunzip_bounded(gzip.compress(b"abc")) == b"abc"


def test_big_sitemaps_keep_the_newest_entries() -> None:
    urls = "".join(f"<url><loc>http://h/news/2026/01/{i:05d}-a-b-c</loc>"
                   f"<lastmod>2026-01-{1 + i % 28:02d}T00:00:00Z</lastmod></url>"
                   for i in range(MAX_ENTRIES + 200))
    parsed = parse_sitemap(f"<urlset>{urls}</urlset>".encode(), "text/xml", "http://h/big")
    assert len(parsed.entries) == MAX_ENTRIES and parsed.problem
    assert parsed.entries[0].published is not None and parsed.entries[0].published.day == 28


def test_not_a_sitemap_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="is this source kind 'feed'"):
        parse_sitemap(fixture("feed.xml"), "application/rss+xml", "http://h/feed.xml")
    with pytest.raises(ParseError, match="invalid XML"):
        parse_sitemap(b"<html><body>hello", "text/html", "http://h/")
    assert title_from_url("http://h/fa/%D8%A7%D8%B9%D8%AA%D8%B5%D8%A7%D8%A8-%DA%A9%D8%A7%D8%B1"
                          ) == "اعتصاب کار"


# -- Telegram -----------------------------------------------------------------------------------


def test_telegram_preview_messages() -> None:
    base = "http://127.0.0.1:9"
    parsed = parse_telegram(fixture("telegram_latest.html", base), "text/html; charset=utf-8",
                            f"{base}/s/kavirmonitor")
    assert parsed.older == f"{base}/s/kavirmonitor?before=1040"
    assert [e.guid for e in parsed.entries] == [
        f"https://t.me/kavirmonitor/{n}" for n in (1043, 1042, 1041, 1040)]
    edited, photo, linked, persian = parsed.entries
    assert edited.content.startswith("تجمع بازنشستگان") and not links_article(edited)
    assert photo.title == "[photo]" and photo.content == "" and not links_article(photo)
    assert linked.link == f"{base}/news/2026/01/tabriz-bazaar-strike-second-day"
    assert links_article(linked) and "Tabriz bazaar stays shut" in linked.summary
    assert persian.link == persian.guid  # a hashtag search is not an article
    assert "\n" in persian.content and persian.published is not None
    assert persian.published.isoformat() == "2026-01-20T08:05:00+00:00"


def test_telegram_older_page_skips_service_messages() -> None:
    parsed = parse_telegram(fixture("telegram_older.html"), "text/html",
                            "http://h/s/kavirmonitor?before=1040")
    assert [e.guid for e in parsed.entries] == ["https://t.me/kavirmonitor/1039"]
    assert parsed.older == "http://h/s/kavirmonitor?before=1038"


def test_a_page_without_messages_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="no messages"):
        parse_telegram(b"<html><body><p>Sign in</p></body></html>", "text/html", "http://h/s/x")


# -- whole runs ---------------------------------------------------------------------------------


def _article_requests(server: TestServer, prefix: str) -> list[str]:
    return [path for path, _ in server.requests if path.startswith(prefix)]


def test_sitemap_index_with_gzip_children_end_to_end(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path) -> None:
    base = server.url("")
    server.route("/sitemap_index.xml", Reply(200, XML, fixture("sitemap_index.xml", base)))
    server.route("/sitemaps/news-today.xml.gz",
                 Reply(200, GZ, gzip.compress(fixture("sitemap_news.xml", base))))
    server.route("/sitemaps/archive-2025.xml.gz",
                 Reply(200, GZ, gzip.compress(fixture("sitemap_archive.xml", base))))
    for path, title in [("/en/news/2026/01/20/iranian-diplomat-defects-frankfurt",
                         "Iranian diplomat in Frankfurt defects"),
                        ("/fa/news/2026/01/19/oil-workers-strike-abadan", "Oil workers strike"),
                        ("/en/weather/2026/01/20/snow-closes-mountain-roads-north", "Snow")]:
        server.route(path, Reply(200, HTML, article_html(title)))
    settings = make_settings(source("kavir-sitemap", "sitemap",
                                    server.url("/sitemap_index.xml"), scope="general"))
    report = poll(settings)["kavir-sitemap"]
    assert report.outcome == "new", report.error
    db = sqlite3.connect(tmp_path / "test.db")
    rows = dict(db.execute("SELECT url, status FROM items").fetchall())
    assert rows[base + "/en/news/2026/01/20/iranian-diplomat-defects-frankfurt"] == "ok"
    assert rows[base + "/en/weather/2026/01/20/snow-closes-mountain-roads-north"] == "skipped"
    assert len(rows) == 5  # three news, two archive entries (gated: skipped)
    assert "/sitemaps/pages.xml" not in [p for p, _ in server.requests]  # 4th child: not read
    assert report.problem and "video-2019.xml" in report.problem  # a child's 404 is noted
    purposes = {p for (p,) in db.execute("SELECT DISTINCT purpose FROM fetches")}
    assert purposes == {"feed", "article"}
    fetched_once = len(_article_requests(server, "/en/news/"))
    again = poll(settings)["kavir-sitemap"]
    assert again.outcome == "no_new" and again.new == 0
    assert len(_article_requests(server, "/en/news/")) == fetched_once  # known: never again
    db.close()


def test_telegram_channel_end_to_end(server: TestServer, make_settings: MakeSettings,
                                     tmp_path: Path) -> None:
    base = server.url("")
    latest = fixture("telegram_latest.html", base)
    server.route("/s/kavirmonitor", lambda h: _telegram(h, latest))
    server.route("/news/2026/01/tabriz-bazaar-strike-second-day",
                 Reply(200, HTML, (SOURCES / "article_tabriz.html").read_bytes()))
    settings = make_settings(source("kavir-tg", "telegram", server.url("/s/kavirmonitor"),
                                    language="fa"))
    report = poll(settings)["kavir-tg"]
    assert report.outcome == "new", report.error
    assert report.problem is None  # paging back to the channel's beginning is no problem
    db = sqlite3.connect(tmp_path / "test.db")
    db.row_factory = sqlite3.Row
    items = {r["guid"]: r for r in db.execute("SELECT * FROM items")}
    assert len(items) == 5  # four on the first page, one from the older page
    assert items["https://t.me/kavirmonitor/1039"]["text"].startswith("A deputy consul")
    linked = items["https://t.me/kavirmonitor/1041"]
    assert linked["status"] == "ok" and "covered bazaar of Tabriz" in linked["text"]
    own = items["https://t.me/kavirmonitor/1040"]
    assert own["status"] == "ok" and own["url"] == "https://t.me/kavirmonitor/1040"
    assert items["https://t.me/kavirmonitor/1042"]["status"] == "empty"  # media only
    assert _article_requests(server, "/s/kavirmonitor") == [
        "/s/kavirmonitor", "/s/kavirmonitor?before=1040", "/s/kavirmonitor?before=1038"]
    # the message is edited: a revision, the old text kept; no paging after the first poll
    latest = fixture("telegram_edited.html", base)
    server.route("/s/kavirmonitor", lambda h: _telegram(h, latest))
    assert poll(settings)["kavir-tg"].revised == 1
    old = db.execute("SELECT v.text FROM item_versions v JOIN items i ON i.id = v.item_id "
                     "WHERE i.guid = 'https://t.me/kavirmonitor/1043'").fetchone()
    assert old is not None and "برای دومین هفته" not in old[0]
    assert len(_article_requests(server, "/s/kavirmonitor")) == 4
    db.close()


def _telegram(handler: object, latest: bytes) -> None:
    from http.server import BaseHTTPRequestHandler

    assert isinstance(handler, BaseHTTPRequestHandler)
    if "before=1040" in handler.path:
        body = fixture("telegram_older.html")
    elif "before=" in handler.path:
        body = b"<html><body><section></section></body></html>"  # the channel's beginning
    else:
        body = latest
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


# -- configuration and schema -------------------------------------------------------------------


def test_affiliation_country_and_telegram_urls_are_validated(make_settings: MakeSettings) -> None:
    from monitor.errors import ConfigError

    bad = (source("a", "feed", "http://x.org/f").replace('"independent"', '"friendly"')
           + source("b", "feed", "http://x.org/g").replace('"GB"', '"Britain"')
           + source("c", "telegram", "https://t.me/somechannel")
           + source("d", "podcast", "http://x.org/p"))
    with pytest.raises(ConfigError) as caught:
        make_settings(bad)
    text = "\n".join(caught.value.problems)
    assert "source 'a': affiliation: expected one of state, state-aligned" in text
    assert "source 'b': country: expected a two-letter ISO 3166 code" in text
    assert "source 'c': url: a Telegram channel's public preview, https://t.me/s/NAME" in text
    assert "source 'd': kind: expected one of feed, page, sitemap, telegram" in text
    ok = make_settings(source("e", "telegram", "https://t.me/s/some_channel"))
    assert ok.sources[0].affiliation == "independent" and ok.sources[0].country == "GB"


def test_source_kind_check_is_removed_by_a_rebuild_that_keeps_everything(
        tmp_path: Path) -> None:
    from sqlite_utils import Database

    from storage import Store
    from storage.schema import MIGRATIONS

    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="0006_source_kind_unchecked")
    db.execute("INSERT INTO sources (id, name, kind, url, language, outlet, scope, "
               "interval_seconds, added_at, next_check_at, etag) VALUES ('a', 'A', 'feed', "
               "'http://x', 'en', 'A', 'topic', 60, 't', 't', 'W/1')")
    db.execute("INSERT INTO items (source_id, entry_key, outlet, first_seen_at, status) "
               "VALUES ('a', 'k', 'A', 't', 'ok')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE sources SET kind = 'telegram'")
    db.conn.commit()
    db.conn.close()
    Store.open(path).close()  # migrates
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    try:
        assert conn.execute("SELECT etag FROM sources").fetchone()[0] == "W/1"
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 1
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                           "'index' AND tbl_name = 'sources'")} >= {"sources_due"}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("UPDATE sources SET kind = 'telegram', affiliation = 'state'")
        with pytest.raises(sqlite3.IntegrityError):  # the scope CHECK is kept
            conn.execute("UPDATE sources SET scope = 'everything'")
        with pytest.raises(sqlite3.IntegrityError):  # foreign keys still declared
            conn.execute("INSERT INTO items (source_id, entry_key, outlet, first_seen_at, "
                         "status) VALUES ('nope', 'k', 'A', 't', 'ok')")
    finally:
        conn.close()


def test_who_reported_it_in_stories_show_and_canned_queries(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from monitor.cli import main
    from tests.test_pipeline import RSS, rss

    stories = {"state": "Ministry announces new fuel prices across the provinces",
               "human-rights": "Monitor reports three executions in Ghezel Hesar prison"}
    text = ""
    for affiliation, title in stories.items():
        sid = affiliation.replace("-", "")
        words = " ".join(f"{w}{i}" for i, w in enumerate(title.split() * 40))
        page = (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                f"<p>{words}.</p><p>{title}, {words[:400]}.</p></article></body></html>")
        server.route(f"/{sid}/1", Reply(200, HTML, page.encode()))
        server.route(f"/{sid}/feed", Reply(200, RSS, rss([(f"{sid}-1", server.url(f"/{sid}/1"),
                                                           title)])))
        text += source(sid, "feed", server.url(f"/{sid}/feed")).replace(
            '"independent"', f'"{affiliation}"')
    settings = make_settings(text)
    assert all(r.outcome == "new" for r in poll(settings).values())
    config = str(tmp_path / "monitor.toml")
    assert main(["--config", config, "stories", "--json"]) == 0
    listed = {s["headline"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed[stories["state"]]["first_affiliation"] == "state"
    assert main(["--config", config, "show", str(listed[stories["state"]]["id"])]) == 0
    assert "state/GB" in capsys.readouterr().out
    metadata = json.loads((Path(__file__).parents[1] / "monitor" / "datasette" /
                           "metadata.json").read_text(encoding="utf-8"))
    queries = metadata["databases"]["DATABASE"]["queries"]
    db = sqlite3.connect(tmp_path / "test.db")
    state = db.execute(queries["stories_state_media_carried"]["sql"]).fetchall()
    assert [row[-1] for row in state] == [stories["state"]]
    only = db.execute(queries["stories_only_human_rights"]["sql"]).fetchall()
    assert [row[-1] for row in only] == [stories["human-rights"]]
    first = dict(r[:2] for r in db.execute(queries["first_reporter_by_affiliation"]["sql"]))
    assert first == {"state": 1, "human-rights": 1}
    db.close()
