"""The whole source run against a real loopback server and a real SQLite file.

Every bad input of the foundation issue is served by one source next to a healthy one; each must
give a clear one-line error (or a recorded skip) on its own source, leave the healthy source's
items intact, and write nothing half-done.
"""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.configuration.settings import Settings
from monitor.polling.pipeline import SourceReport
from monitor.service.app import poll_sources, running
from tests.conftest import MakeSettings, source_toml
from tests.server import Reply, TestServer, drip_headers

PARAGRAPH = ("Witnesses said the crowd gathered outside the provincial governor's office before "
             "noon and stayed until security forces closed the surrounding streets. ")


def article_html(title: str, paragraphs: int = 6,
                 published: str = "2026-01-20T08:00:00Z") -> bytes:
    body = "".join(f"<p>{PARAGRAPH * 2} Paragraph {i}.</p>" for i in range(paragraphs))
    return (f"<!DOCTYPE html><html lang='en'><head><title>{title}</title>"
            f"<meta property='article:published_time' content='{published}'></head>"
            f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright The Outlet</footer></body></html>").encode()


def rss(items: list[tuple[str | None, str | None, str]], title: str = "Outlet",
        date: str = "Tue, 20 Jan 2026 08:00:00 GMT") -> bytes:
    parts = []
    for guid, link, headline in items:
        g = f"<guid isPermaLink='false'>{guid}</guid>" if guid else ""
        lk = f"<link>{link}</link>" if link else ""
        parts.append(f"<item><title>{headline}</title>{lk}{g}"
                     f"<description>{headline}: a short summary.</description>"
                     f"<pubDate>{date}</pubDate></item>")
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{title}</title><link>http://x/</link>{''.join(parts)}</channel></rss>"
            ).encode()


RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def poll(settings: Settings, ids: list[str] | None = None) -> dict[str, SourceReport]:
    async def main() -> list[SourceReport]:
        async with running(settings) as deps:
            return await poll_sources(deps, ids or [s.id for s in settings.sources])
    return {r.source: r for r in asyncio.run(main())}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "test.db")
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def healthy(server: TestServer) -> str:
    server.route("/good/a1", Reply(200, HTML, article_html("Diplomat defects in Vienna")))
    server.route("/good/feed", Reply(200, RSS, rss([("g-a1", server.url("/good/a1"),
                                                     "Diplomat defects in Vienna")])))
    return source_toml("good", server.url("/good/feed"))


def assert_healthy_intact(db: sqlite3.Connection) -> None:
    row = db.execute("SELECT title, status, text FROM items WHERE source_id = 'good'").fetchone()
    assert row["status"] == "ok" and "Paragraph 3" in row["text"]
    assert db.execute("SELECT error_count FROM sources WHERE id = 'good'").fetchone()[0] == 0


def source_error(db: sqlite3.Connection, sid: str) -> tuple[int, str]:
    row = db.execute("SELECT error_count, last_error FROM sources WHERE id = ?", (sid,)).fetchone()
    return row["error_count"], row["last_error"]


def _bomb() -> bytes:
    inner = gzip.compress(b"<" * (64 * 1024 * 1024), compresslevel=9)
    return gzip.compress(inner, compresslevel=9)


BAD_FEEDS = {
    "http404": (Reply(404, {"Content-Type": "text/html"}, b"gone"), "404"),
    "http410": (Reply(410, {"Content-Type": "text/html"}, b"gone for good"), "410"),
    "http500": (Reply(500, {"Content-Type": "text/html"}, b"oops"), "500"),
    "stall": (Reply(200, RSS, b"<rss/>", stall_headers=5.0), "deadline"),
    "drip": (Reply(200, RSS, rss([("x", "http://x/1", "Protest")]) * 20, drip=0.05, chunk=64),
             "deadline"),
    "overcap": (Reply(200, RSS, b"<rss>" + b" " * (2 * 1024 * 1024)), "cap"),
    "bomb": (Reply(200, {**RSS, "Content-Encoding": "gzip, gzip"}, _bomb()), "cap"),
    "htmlfeed": (Reply.from_file("html_as_feed.xml"), "HTML"),
    "garbage": (Reply(200, RSS, b"\x00\x01\x02 not xml at all {{{"), "not a feed"),
}


@pytest.mark.parametrize("case", sorted(BAD_FEEDS))
def test_bad_feed_is_a_one_line_error_on_its_source_only(
        case: str, server: TestServer, make_settings: MakeSettings,
        db: sqlite3.Connection) -> None:
    reply, expected = BAD_FEEDS[case]
    sources = healthy(server) + source_toml(case, server.route(f"/{case}", reply))
    settings = make_settings(sources, deadline="1s")
    reports = poll(settings)
    assert reports["good"].outcome == "new" and reports["good"].new == 1
    bad = reports[case]
    assert bad.outcome == "error" and bad.error and "\n" not in bad.error
    count, message = source_error(db, case)
    print(f"{case}: {message}")
    assert count == 1 and expected.lower() in message.lower(), message
    assert db.execute("SELECT count(*) FROM items WHERE source_id = ?", (case,)).fetchone()[0] == 0
    fetch = db.execute("SELECT outcome, error FROM fetches WHERE source_id = ?", (case,)).fetchone()
    if case in ("htmlfeed", "garbage"):  # the download worked; the body is not a feed
        assert fetch["outcome"] == "ok"
    else:
        assert fetch["outcome"] == "error" and fetch["error"]
    assert_healthy_intact(db)


def test_connection_refused_and_header_drip(server: TestServer, make_settings: MakeSettings,
                                            db: sqlite3.Connection) -> None:
    server.route("/dripheaders", drip_headers(5.0, 0.1))
    sources = (healthy(server) + source_toml("refused", "http://127.0.0.1:9/feed")
               + source_toml("dripheaders", server.url("/dripheaders")))
    reports = poll(make_settings(sources, deadline="1s"))
    assert reports["refused"].outcome == "error" and reports["dripheaders"].outcome == "error"
    assert reports["dripheaders"].ms < 4000  # bounded by the 1 s deadline, not the 5 s drip
    assert "refused" in source_error(db, "refused")[1].lower() or \
        "connect" in source_error(db, "refused")[1].lower()
    assert_healthy_intact(db)


def test_second_error_backs_off_and_counts(server: TestServer, make_settings: MakeSettings,
                                           db: sqlite3.Connection) -> None:
    server.route("/down", Reply(503, {"Retry-After": "120"}, b""))
    settings = make_settings(source_toml("down", server.url("/down")))
    poll(settings)
    poll(settings)
    row = db.execute("SELECT error_count, last_checked_at, next_check_at FROM sources").fetchone()
    assert row["error_count"] == 2
    assert row["next_check_at"] > row["last_checked_at"]


def test_redirect_to_private_address_is_refused(server: TestServer, make_settings: MakeSettings,
                                                db: sqlite3.Connection) -> None:
    server.route("/hop", Reply(302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    server.route("/feed2", Reply(200, RSS, rss([("g1", server.url("/hop"), "Protest in Tabriz")])))
    sources = (source_toml("redir", server.url("/hop"))
               + source_toml("artredir", server.url("/feed2")))
    reports = poll(make_settings(sources, allow='["127.0.0.1/32"]'))
    assert reports["redir"].outcome == "error"
    assert "169.254.169.254" in source_error(db, "redir")[1]
    # an article link that redirects into the metadata range: that article fails, the run does not
    assert reports["artredir"].outcome == "new"
    row = db.execute("SELECT status, status_detail, text FROM items "
                     "WHERE source_id = 'artredir'").fetchone()
    assert row["status"] == "fallback" and "169.254.169.254" in row["status_detail"]


def test_entries_without_links_javascript_links_and_duplicate_guids(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    server.route("/a/1", Reply(200, HTML, article_html("Strike at the refinery")))
    server.route("/a/2", Reply(200, HTML, article_html("Bazaar closes in protest")))
    feed = rss([("dup", server.url("/a/1"), "Strike at the refinery"),
                ("dup", server.url("/a/2"), "Bazaar closes in protest"),
                ("nolink", None, "Protest without a link"),
                ("js", "javascript:alert(1)", "Protest behind a script link")])
    settings = make_settings(source_toml("odd", server.route("/odd", Reply(200, RSS, feed))))
    report = poll(settings)["odd"]
    assert report.outcome == "new" and report.new == 2 and report.skipped == 2
    rows = {r["title"]: r for r in db.execute("SELECT * FROM items")}
    assert rows["Strike at the refinery"]["status"] == "ok"
    assert rows["Bazaar closes in protest"]["status"] == "ok"  # shared GUID not trusted
    assert rows["Protest without a link"]["status"] == "skipped"
    assert rows["Protest behind a script link"]["status_detail"] == "no http(s) link"
    assert server.hits("/a/1") == 1 and server.hits("/a/2") == 1


def test_rotating_guids_do_not_cause_downloads(server: TestServer, make_settings: MakeSettings,
                                               db: sqlite3.Connection) -> None:
    server.route("/r/1", Reply(200, HTML, article_html("Officer seeks asylum")))
    link = server.url("/r/1")
    settings = make_settings(source_toml("rot", server.url("/rot")))
    for n in range(3):
        server.route("/rot", Reply(200, RSS, rss([(f"rotating-{n}", f"{link}?utm_source={n}",
                                                   "Officer seeks asylum")])))
        poll(settings)
    assert server.hits("/r/1") == 1
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 1


def test_revised_article_keeps_its_old_version(server: TestServer, make_settings: MakeSettings,
                                               db: sqlite3.Connection) -> None:
    link = server.route("/v/1", Reply(200, HTML, article_html("Ten arrested at rally")))
    settings = make_settings(source_toml("rev", server.url("/rev")))
    server.route("/rev", Reply(200, RSS, rss([("v1", link, "Ten arrested at rally")])))
    poll(settings)
    server.route("/v/1", Reply(200, HTML, article_html("Forty arrested at rally", 7)))
    server.route("/rev", Reply(200, RSS, rss([("v1", link, "Forty arrested at rally")])))
    report = poll(settings)["rev"]
    assert report.revised == 1 and report.new == 0
    item = db.execute("SELECT id, title FROM items").fetchone()
    assert item["title"] == "Forty arrested at rally"
    old = db.execute("SELECT title, text FROM item_versions WHERE item_id = ?",
                     (item["id"],)).fetchone()
    assert old["title"] == "Ten arrested at rally" and "Paragraph 5" in old["text"]


def test_unchanged_feed_is_not_parsed_again_and_304_is_normal(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    sources = healthy(server)
    server.routes["/good/feed"].etag = '"v1"'  # type: ignore[union-attr]
    settings = make_settings(sources)
    poll(settings)
    second = poll(settings)["good"]
    assert second.outcome == "not_modified" and second.conditional
    assert server.hits("/good/a1") == 1
    conditional = [h for p, h in server.requests if p == "/good/feed"][1]
    assert conditional.get("if-none-match") == '"v1"'


def test_wrong_declared_encoding_is_repaired(server: TestServer, make_settings: MakeSettings,
                                             db: sqlite3.Connection) -> None:
    reply = Reply.from_file("windows1256_undeclared.xml")
    settings = make_settings(source_toml("enc", server.route("/enc", reply), language="fa"))
    poll(settings)
    titles = [r[0] for r in db.execute("SELECT title FROM items")]
    assert titles and all("\ufffd" not in t for t in titles)
    assert any("\u0627" <= ch <= "\u06ff" for ch in "".join(titles))


def test_truncated_feed_keeps_complete_entries_and_notes_the_problem(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    settings = make_settings(source_toml("cut", server.route(
        "/cut", Reply.from_file("truncated.xml"))))
    report = poll(settings)["cut"]
    assert report.outcome in ("new", "no_new") and report.problem
    count, message = source_error(db, "cut")
    assert count == 0 and message.startswith("warning:")


def test_extraction_timeout_falls_back_to_feed_text(server: TestServer,
                                                   make_settings: MakeSettings,
                                                   db: sqlite3.Connection) -> None:
    link = server.route("/slow/1", Reply(200, HTML, article_html("Protest in Zahedan", 400)))
    settings = make_settings(source_toml("slowx", server.route("/slowx", Reply(
        200, RSS, rss([("s1", link, "Protest in Zahedan")])))), extract_timeout="1ms")
    report = poll(settings)["slowx"]
    assert report.outcome == "new"
    row = db.execute("SELECT status, status_detail, text FROM items").fetchone()
    assert row["status"] == "timeout" and "timed out" in row["status_detail"]
    assert "short summary" in row["text"]  # the feed's own text is kept


def test_gate_skips_general_entries_and_never_fetches_them(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    server.route("/g/1", Reply(200, HTML, article_html("Oil workers strike")))
    server.route("/g/2", Reply(200, HTML, article_html("Football league results")))
    feed = rss([("1", server.url("/g/1"), "Oil workers strike"),
                ("2", server.url("/g/2"), "Football league results")])
    settings = make_settings(source_toml("gen", server.route("/gen", Reply(200, RSS, feed)),
                                         scope="general"))
    poll(settings)
    poll(settings)
    assert server.hits("/g/1") == 1 and server.hits("/g/2") == 0
    skipped = db.execute(
        "SELECT title, status_detail FROM items WHERE status = 'skipped'").fetchall()
    assert [r["title"] for r in skipped] == ["Football league results"]
    assert skipped[0]["status_detail"].startswith("gate:")


def test_locked_database_loses_nothing_and_writes_nothing_half_done(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path) -> None:
    sources = healthy(server)
    settings = make_settings(sources)

    async def locked_run() -> SourceReport:
        async with running(settings) as deps:
            blocker = sqlite3.connect(settings.database.path, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock all run long
            try:
                (rep,) = await poll_sources(deps, ["good"])
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            return rep

    report = asyncio.run(locked_run())
    assert report.outcome == "error" and "lock" in (report.error or "").lower()
    conn = sqlite3.connect(settings.database.path)
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM fetches").fetchone()[0] == 0
    again = poll(settings)["good"]  # the next run picks the entry up: nothing was lost
    assert again.outcome == "new" and again.new == 1
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 1
    conn.close()


def test_raw_html_is_kept_then_pruned_after_its_retention(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    from datetime import UTC, datetime, timedelta

    from monitor.service.app import maintain

    settings = make_settings(healthy(server))  # default retention: 30 days
    poll(settings)
    assert db.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == 1

    async def later() -> dict[str, int]:
        clock = lambda: datetime.now(UTC) + timedelta(days=31)  # noqa: E731
        async with running(settings, clock=clock) as deps:
            return maintain(deps)

    done = asyncio.run(later())
    # past the 30-day retention and the 14-day dedup window; fetch rows are 31 days old
    assert done["raw_pages_deleted"] == 1 and done["stories_unindexed"] == 1
    assert done["fetches_deleted"] == 2
    assert db.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == 0


def test_robots_txt_is_honoured_for_articles(server: TestServer, make_settings: MakeSettings,
                                             db: sqlite3.Connection) -> None:
    server.route("/robots.txt", Reply(200, {"Content-Type": "text/plain"},
                                      b"User-agent: *\nDisallow: /private/\n"))
    open_url = server.route("/news/1", Reply(200, HTML, article_html("Strike in Abadan")))
    closed_url = server.route("/private/2", Reply(200, HTML, article_html("Rally in Ilam")))
    feed = rss([("1", open_url, "Strike in Abadan"), ("2", closed_url, "Rally in Ilam")])
    settings = make_settings(source_toml("r", server.route("/r", Reply(200, RSS, feed))))
    poll(settings)
    assert server.hits("/news/1") == 1 and server.hits("/private/2") == 0
    rows = dict(db.execute("SELECT title, status_detail FROM items").fetchall())
    assert rows["Rally in Ilam"] == "robots.txt disallows this page"


def test_unreadable_robots_txt_means_retry_later(server: TestServer,
                                                 make_settings: MakeSettings,
                                                 db: sqlite3.Connection) -> None:
    server.route("/robots.txt", Reply(503, {}, b"busy"))
    url = server.route("/news/1", Reply(200, HTML, article_html("Strike in Abadan")))
    feed = rss([("1", url, "Strike in Abadan")])
    settings = make_settings(source_toml("r", server.route("/r", Reply(200, RSS, feed))))
    poll(settings)
    assert server.hits("/news/1") == 0
    assert db.execute("SELECT status FROM items").fetchone()[0] == "error"
    # a new process (empty robots cache) after robots.txt recovered: the article is fetched
    server.route("/robots.txt", Reply(404, {}, b""))
    poll(settings)
    assert server.hits("/news/1") == 1
    assert db.execute("SELECT status FROM items").fetchone()[0] == "ok"


def test_requests_to_one_host_are_spaced(server: TestServer, make_settings: MakeSettings,
                                         db: sqlite3.Connection) -> None:
    import time

    arrivals: list[float] = []
    page = article_html("Strike in Abadan")

    def timed(h: Any) -> None:
        arrivals.append(time.monotonic())
        server._reply(h, Reply(200, HTML, page))

    items = [(str(i), server.route(f"/n/{i}", timed), f"Strike {i} in Abadan") for i in range(4)]
    settings = make_settings(source_toml("r", server.route("/r", Reply(200, RSS, rss(items)))),
                             extra="")
    text = settings.config_path.read_text().replace('host_spacing = "0s"',
                                                    'host_spacing = "200ms"')
    settings.config_path.write_text(text)
    from monitor.configuration.settings import load_settings
    poll(load_settings(settings.config_path, env={}))
    gaps = [b - a for a, b in zip(sorted(arrivals), sorted(arrivals)[1:], strict=False)]
    assert len(arrivals) == 4 and min(gaps) >= 0.18


def test_a_source_behind_a_proxy(server: TestServer, make_settings: MakeSettings,
                                 db: sqlite3.Connection) -> None:
    # nothing listens on 127.0.0.2:9; the proxy (our test server) answers for it
    target = "http://127.0.0.2:9/feed"
    server.route(target, Reply(200, RSS, rss([("1", None, "Strike in Abadan")])))
    sources = source_toml("p", target) + f'proxy = "{server.url("")}"\n'
    report = poll(make_settings(sources))["p"]
    assert report.outcome == "new", report.error
    assert any(path == target for path, _ in server.requests)


def test_an_article_another_source_fetched_is_not_downloaded_again(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    url = server.route("/art/1", Reply(200, HTML, article_html("Strike in Abadan")))
    server.route("/own", Reply(200, RSS, rss([("own-1", url, "Strike in Abadan")])))
    server.route("/agg", Reply(200, RSS, rss([("agg-1", url + "?utm_source=agg",
                                                 "Strike in Abadan")])))
    settings = make_settings(source_toml("own", server.url("/own"))
                             + source_toml("agg", server.url("/agg")))
    poll(settings, ["own"])
    poll(settings, ["agg"])
    assert server.hits("/art/1") == 1
    rows = db.execute("SELECT source_id, status, status_detail, story_id FROM items "
                      "ORDER BY id").fetchall()
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert "downloaded by own" in rows[1]["status_detail"]
    assert rows[0]["story_id"] == rows[1]["story_id"]  # one story, found by URL


def test_downloaded_articles_are_analysed_in_their_extraction_task(
        server: TestServer, make_settings: MakeSettings, db: sqlite3.Connection) -> None:
    """A page's analysis (language, search forms, topics, fingerprint) comes back with its
    extraction: no second worker task per article. (Equality with the separate analysis:
    tests/test_workers.py.)"""
    from monitor.workers import WorkerPool

    tasks: list[str] = []

    class CountingPool(WorkerPool):  # the real pool, counting the task names it runs
        async def run(self, task: str, *args: Any, **kwargs: Any) -> Any:
            tasks.append(task)
            return await super().run(task, *args, **kwargs)

    settings = make_settings(healthy(server))

    async def main() -> None:
        pool = CountingPool(1)
        try:
            async with running(settings, pool=pool) as deps:
                await poll_sources(deps, [s.id for s in settings.sources])
        finally:
            await pool.close()

    asyncio.run(main())
    assert sorted(tasks) == ["article", "parse_feed"]
    assert_healthy_intact(db)
    row = db.execute("SELECT id, language FROM items").fetchone()
    assert row["language"] == "en"
    found = db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH 'title:vienna'")
    assert [r[0] for r in found] == [row["id"]]  # indexed under the worker's search forms
