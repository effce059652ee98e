"""`monitor sources`: add (discovery, gate preview, sources.toml written with its comments kept),
check, list, import and export of OPML; hostile URLs fail clearly and write nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from lxml import etree

from monitor.cli import main
from tests.conftest import MakeSettings
from tests.server import Reply, TestServer
from tests.test_source_kinds import XML, fixture

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
SOURCES_TOML = """\
# My sources (a comment that must survive)
# ========================================

# --- diaspora outlets ---
[[source]]
id = "first"   # trailing comment
name = "First Outlet"
kind = "feed"
url = "{url}"
language = "en"
outlet = "First Outlet"
scope = "topic"
affiliation = "diaspora"
country = "GB"
category = "Iran"
"""


@pytest.fixture
def config(server: TestServer, make_settings: MakeSettings, tmp_path: Path) -> Path:
    server.route("/first.xml", Reply(200, RSS, fixture("feed.xml", server.url(""))))
    make_settings(SOURCES_TOML.format(url=server.url("/first.xml")))
    return tmp_path / "monitor.toml"


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), "sources", *args])


def sources_of(config: Path) -> list[dict[str, object]]:
    with (config.parent / "sources.toml").open("rb") as fh:
        return list(tomllib.load(fh)["source"])


def test_add_discovers_alternate_links_shows_the_gate_and_keeps_comments(
        server: TestServer, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = server.url("")
    server.route("/", Reply(200, HTML, fixture("site_with_links.html", base)))
    server.route("/feed.xml", Reply(200, RSS, fixture("feed.xml", base)))
    before = (config.parent / "sources.toml").read_text(encoding="utf-8")
    assert run(config, "add", base + "/", "--affiliation", "independent",
               "--country", "IR") == 0
    out = capsys.readouterr().out
    assert "<link rel=alternate> Kavir News – all stories" in out
    assert "download (gate term found)" in out and "skip (no gate term" in out
    after = (config.parent / "sources.toml").read_text(encoding="utf-8")
    assert after.startswith(before)  # every comment and line of the user's file kept
    added = sources_of(config)[-1]
    assert added["url"] == base + "/feed.xml" and added["kind"] == "feed"
    assert added["id"] == "kavir-news" and added["affiliation"] == "independent"
    assert run(config, "add", base + "/feed.xml") == 1  # now a duplicate
    assert "already a source: kavir-news" in capsys.readouterr().err


def test_add_without_links_tries_feed_paths_and_robots_sitemaps(
        server: TestServer, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = server.url("")
    server.route("/", Reply(200, HTML, fixture("site_without_links.html", base)))
    server.route("/rss", Reply(200, RSS, fixture("feed.xml", base)))
    server.route("/robots.txt", Reply(200, {"Content-Type": "text/plain"},
                                      f"User-agent: *\nSitemap: {base}/news.xml\n".encode()))
    server.route("/news.xml", Reply(200, XML, fixture("sitemap_news.xml", base)))
    assert run(config, "add", base + "/", "--pick", "2", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "[1] feed: " + base + "/rss  (the usual feed path" in out
    assert "[2] sitemap: " + base + "/news.xml  (robots.txt Sitemap: line" in out
    assert "dry run: nothing written" in out and len(sources_of(config)) == 1
    assert run(config, "add", base + "/", "--pick", "2", "--name", "Kavir sitemap") == 0
    assert sources_of(config)[-1]["kind"] == "sitemap"


def test_add_a_telegram_channel(server: TestServer, config: Path) -> None:
    base = server.url("")
    server.route("/s/kavirmonitor", Reply(200, HTML, fixture("telegram_latest.html", base)))
    assert run(config, "add", base + "/s/kavirmonitor", "--language", "fa") == 0
    added = sources_of(config)[-1]
    assert added["kind"] == "telegram" and added["name"] == "Kavir Monitor | پایش کویر"
    assert added["id"] == "kavir-monitor"


@pytest.mark.parametrize("case", ["huge", "loop", "private", "nothing"])
def test_add_on_a_hostile_url_fails_clearly_and_writes_nothing(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path, case: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.route("/huge", Reply(200, HTML, b"<html>" + b"x" * 3_000_000))
    server.route("/loop-a", Reply(302, {"Location": "/loop-b"}))
    server.route("/loop-b", Reply(302, {"Location": "/loop-a"}))
    server.route("/plain", Reply(200, HTML, b"<html><body>nothing here</body></html>"))
    path = {"huge": "/huge", "loop": "/loop-a", "private": "/plain", "nothing": "/plain"}[case]
    allow = '[]' if case == "private" else '["127.0.0.0/8"]'
    make_settings(SOURCES_TOML.format(url="http://example.org/feed"), allow=allow)
    before = (tmp_path / "sources.toml").read_bytes()
    assert run(tmp_path / "monitor.toml", "add", server.url(path)) == 1
    err = capsys.readouterr().err
    expected = {"huge": "cap", "loop": "redirect", "private": "address",
                "nothing": "no feed, sitemap or Telegram preview found"}[case]
    assert err.startswith("error: ") and expected in err, err
    assert (tmp_path / "sources.toml").read_bytes() == before
    assert not list(tmp_path.glob(".sources-*"))


def test_import_is_a_dry_run_until_yes_and_refuses_duplicates(
        server: TestServer, config: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    base = server.url("")
    opml = tmp_path / "reader.opml"
    opml.write_text(fixture("reader_export.opml", base).decode().replace(
        "{known}", server.url("/first.xml/")), encoding="utf-8")
    assert run(config, "import", str(opml)) == 0
    out = capsys.readouterr().out
    assert "refused: duplicate of first" in out and "refused: not an http(s) URL" in out
    assert "3 sources would be added" in out and len(sources_of(config)) == 1
    assert run(config, "import", str(opml), "--yes") == 0
    added = {s["url"]: s for s in sources_of(config)[1:]}
    assert set(added) == {base + "/feed.xml", base + "/fa/rss/", base + "/other.atom"}
    assert added[base + "/fa/rss/"]["language"] == "fa"
    assert added[base + "/fa/rss/"]["category"] == "Human rights"
    assert "category" not in added[base + "/other.atom"]
    capsys.readouterr()
    assert run(config, "import", str(opml), "--yes") == 0
    assert "nothing to add" in capsys.readouterr().out
    assert (config.parent / "sources.toml").read_text(encoding="utf-8").startswith(
        "# My sources (a comment that must survive)")


def test_import_refuses_a_file_that_is_not_opml(config: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<html><body>not opml</body></html>", encoding="utf-8")
    assert run(config, "import", str(bad)) == 2
    assert "not OPML" in capsys.readouterr().err


def test_export_is_opml_2_with_categories_and_imports_back(
        server: TestServer, config: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    base = server.url("")
    server.route("/s/kavirmonitor", Reply(200, HTML, fixture("telegram_latest.html", base)))
    assert run(config, "add", base + "/s/kavirmonitor", "--language", "fa") == 0
    capsys.readouterr()
    assert run(config, "export") == 0
    out = capsys.readouterr().out
    root = etree.fromstring(out.encode())
    assert root.get("version") == "2.0"
    groups = {g.get("text"): g for g in root.find("body")}
    assert set(groups) == {"Iran", "uncategorised"}
    feed = groups["Iran"][0]
    assert feed.get("type") == "rss" and feed.get("xmlUrl") == server.url("/first.xml")
    channel = groups["uncategorised"][0]
    assert channel.get("feedMonitorKind") == "telegram" and channel.get("type") == "link"
    exported = tmp_path / "export.opml"
    exported.write_text(out, encoding="utf-8")
    assert run(config, "import", str(exported)) == 0
    assert "nothing to add" in capsys.readouterr().out  # both already there


def test_check_probes_each_source_and_exits_1_on_a_failure(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    base = server.url("")
    server.route("/good.xml", Reply(200, RSS, fixture("feed.xml", base)))
    server.route("/tg", Reply(200, HTML, fixture("telegram_latest.html", base)))
    text = SOURCES_TOML.format(url=base + "/good.xml")
    text += SOURCES_TOML.format(url=base + "/gone.xml").split("# --- diaspora outlets ---")[
        1].replace('"first"', '"gone"')
    text += ('[[source]]\nid = "tg"\nname = "TG"\nkind = "telegram"\nurl = "' + base +
             '/s/kavirmonitor"\nlanguage = "fa"\noutlet = "TG"\nscope = "topic"\n')
    server.route("/s/kavirmonitor", Reply(200, HTML, fixture("telegram_latest.html", base)))
    make_settings(text)
    config = tmp_path / "monitor.toml"
    assert run(config, "check") == 1
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "ok" in lines["first"] and "2026-01-20 09:00" in lines["first"]
    assert "FAIL" in lines["gone"] and "404" in lines["gone"]
    assert "telegram" in lines["tg"] and " 4 " in lines["tg"]
    assert "2 of 3 sources answered with entries" in out
    assert run(config, "check", "first", "tg") == 0
    assert run(config, "check", "nope") == 2
    assert not (tmp_path / "test.db").exists()  # check writes nothing


def test_list_shows_kind_affiliation_health_and_next_check(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "once", "--all"]) == 0
    capsys.readouterr()
    assert run(config, "list") == 0
    out = capsys.readouterr().out
    assert "next check" in out and "diaspora" in out
    row = next(line for line in out.splitlines() if line.startswith("first"))
    assert row.split()[1:6] == ["feed", "diaspora", "GB", "en", "ok"]
    assert row.split()[-1].startswith("20") and row.split()[-1].endswith("Z")  # next check


def test_an_entry_the_loader_would_refuse_is_never_written(
        server: TestServer, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = server.url("")
    server.route("/feed.xml", Reply(200, RSS, fixture("feed.xml", base)))
    before = (config.parent / "sources.toml").read_bytes()
    assert run(config, "add", base + "/feed.xml", "--id", "Not An Id") == 2
    assert "id: use lowercase letters" in capsys.readouterr().err
    assert (config.parent / "sources.toml").read_bytes() == before
    assert not list(config.parent.glob(".sources-*"))
