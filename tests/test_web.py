"""The web reader over HTTP (a real uvicorn on 127.0.0.1): escaping, read-only access, the
access token, the optional schema parts, search snippets, and the alert link to a story page."""

from __future__ import annotations

import asyncio
import io
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import lxml.html
import pytest

from monitor.alerts import channels
from monitor.alerts.dispatch import Dispatcher
from monitor.commands.queries import fts_query
from monitor.errors import ConfigError
from monitor.web import format as fmt
from monitor.web.app import ReaderConfig
from monitor.web.serve import is_loopback, reader_config
from storage import Store, reader
from storage.reader import open_readonly
from storage.records import AlertRow
from tests.conftest import MakeSettings, source_toml
from tests.test_alerts import NOW, queue
from tests.webserver import serve_reader

TOPICS = ("defections", "protests")


@pytest.fixture(scope="module")
def base(reader_db: Path) -> Iterator[str]:
    with serve_reader(ReaderConfig(reader_db, TOPICS, "http://127.0.0.1:8001/")) as url:
        yield url


def get(url: str, **kw: object) -> httpx.Response:
    return httpx.get(url, timeout=10, **kw)  # type: ignore[arg-type]


def test_every_page_renders_and_hostile_text_stays_text(base: str, reader_db: Path) -> None:
    conn = sqlite3.connect(reader_db)
    hostile = [r[0] for r in conn.execute(
        "SELECT id FROM stories WHERE first_outlet = '<b>Outlet</b>' ORDER BY id")]
    conn.close()
    pages = ["/", "/?since=90d&page=1", "/trends", "/trends?days=90", "/sources",
             "/search?q=envoy", "/search?q=" + "script", *(f"/stories/{i}" for i in hostile)]
    for page in pages:
        r = get(base + page)
        assert r.status_code == 200, page
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert_inert(r.text, page)
    story = get(f"{base}/stories/{hostile[0]}").text
    assert "&lt;script&gt;window.pwned = 1; alert(1)&lt;/script&gt; Envoy defects" in story
    assert "{{ 7*7 }}" in get(f"{base}/stories/{hostile[3]}").text  # no template evaluation
    assert "&lt;b&gt;y&lt;/b&gt;" in story  # matched terms of the reason escaped too


def assert_inert(body: str, page: str) -> None:
    """No element a headline could have smuggled in: parsed, not string-matched."""
    tree = lxml.html.fromstring(body)
    assert not tree.xpath("//script|//iframe|//img|//object|//embed|//b"), page
    assert not tree.xpath("//h1[contains(., 'injected')][not(ancestor::main)]"), page
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (page, name)
            assert not value.strip().lower().startswith("javascript:"), (page, name, value)


def test_bad_parameters_get_a_clear_400_and_unknown_story_404(base: str) -> None:
    r = get(base + "/?page=abc")
    assert r.status_code == 400 and "page must be a whole number" in r.text
    r = get(base + "/?topic=%3Cscript%3E")
    assert r.status_code == 400 and "&lt;script&gt;" in r.text and "<script" not in r.text
    assert get(base + "/stories/999999").status_code == 404
    r = get(base + "/search?q=%22unbalanced")
    assert r.status_code == 400 and "not a valid search query" in r.text


def test_the_reader_connection_cannot_write(reader_db: Path, tmp_path: Path) -> None:
    conn = open_readonly(reader_db)
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        conn.execute("DELETE FROM stories")
    conn.close()
    copy = tmp_path / "ro.db"
    shutil.copy(reader_db, copy)
    copy.chmod(0o444)
    with serve_reader(ReaderConfig(copy, TOPICS)) as url:  # a file it may not write: fine
        assert get(url + "/").status_code == 200


def test_non_loopback_needs_a_token(make_settings: MakeSettings, tmp_path: Path) -> None:
    from monitor.cli import main

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    settings = make_settings(source_toml("s", "http://s.example/feed"))
    assert reader_config(settings, "127.0.0.1").token is None
    with pytest.raises(ConfigError, match=r"refusing to listen on 0\.0\.0\.0 without an access"):
        reader_config(settings, "0.0.0.0")
    assert main(["--config", str(settings.config_path), "web", "--host", "0.0.0.0"]) == 2
    (tmp_path / "token").write_text("s3cret-token\n", encoding="utf-8")
    settings = make_settings(source_toml("s", "http://s.example/feed"),
                             extra='[web]\ntoken_file = "token"\n')
    assert reader_config(settings, "0.0.0.0").token == "s3cret-token"
    settings = make_settings(source_toml("s", "http://s.example/feed"),
                             extra='[web]\ntoken_env = "NOT_SET_ANYWHERE"\n')
    with pytest.raises(ConfigError, match=r"web\.token: environment variable NOT_SET_ANYWHERE"):
        reader_config(settings, "127.0.0.1")


def test_with_a_token_every_request_needs_it(reader_db: Path) -> None:
    with serve_reader(ReaderConfig(reader_db, TOPICS, token="tok-123")) as url:
        denied = get(url + "/")
        assert denied.status_code == 401 and "Basic" in denied.headers["www-authenticate"]
        assert "tok-123" not in denied.text
        assert get(url + "/static/style.css").status_code == 401
        assert get(url + "/", auth=("anyone", "wrong")).status_code == 401
        assert get(url + "/", auth=("anyone", "tok-123")).status_code == 200
        assert get(url + "/trends", headers={"Authorization": "Bearer tok-123"}).status_code \
            == 200


def test_optional_tables_possible_band_and_related_stories(reader_db: Path,
                                                           tmp_path: Path) -> None:
    db = tmp_path / "extended.db"
    shutil.copy(reader_db, db)
    conn = sqlite3.connect(db)
    a, b = [r[0] for r in conn.execute(
        "SELECT DISTINCT i.story_id FROM items i JOIN item_topics t ON t.item_id = i.id "
        "WHERE t.topic = 'protests' ORDER BY i.story_id LIMIT 2")]
    with conn:
        conn.execute("UPDATE item_topics SET state = 'possible' WHERE item_id IN "
                     "(SELECT id FROM items WHERE story_id = ?)", (a,))
        conn.execute("INSERT INTO story_links (story_id, other_story_id, kind, score, evidence, "
                     "created_at) VALUES (?, ?, 'same_event', 0.9, '{}', "
                     "'2026-01-01T00:00:00Z')", (a, b))
    headline = conn.execute("SELECT headline FROM stories WHERE id = ?", (a,)).fetchone()[0]
    conn.close()
    with serve_reader(ReaderConfig(db, TOPICS)) as url:
        page = get(url + "/").text
        main, _, band = page.partition('class="possible-band"')
        assert f"/stories/{a}\"" not in main and f"/stories/{a}\"" in band
        assert "Possibly relevant" in page
        story_b = get(f"{url}/stories/{b}").text
        assert f'href="/stories/{a}"' in story_b and "same" in story_b
    assert headline


def test_possible_band_is_the_same_read_from_its_rows_or_by_walking_stories(
        reader_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The band's two plans (few possible rows: from the partial index; many: stories newest
    first) give the same stories, whatever the filter."""
    db = tmp_path / "band.db"
    shutil.copy(reader_db, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE item_topics SET state = 'possible' WHERE item_id IN (SELECT i.id "
                     "FROM items i WHERE i.story_id % 2 = 0)")
    conn = open_readonly(db)
    filters = [reader.StoryFilter(topic=None, language=lang, outlet=None, since=None, page=1,
                                  per_page=10) for lang in (None, "en", "fa")]
    monkeypatch.setattr(reader, "SPARSE_POSSIBLE", 0)
    walked = [[s.id for s in reader.story_list(conn, f).possible] for f in filters]
    monkeypatch.setattr(reader, "SPARSE_POSSIBLE", 10**9)
    indexed = [[s.id for s in reader.story_list(conn, f).possible] for f in filters]
    conn.close()
    assert walked == indexed and walked[0]
    assert any("item_topics_possible" in str(tuple(r)) for r in sqlite3.connect(db).execute(
        f"EXPLAIN QUERY PLAN {reader._POSSIBLE_STORIES}"))


def test_search_snippet_highlights_the_original_text_across_letter_forms() -> None:
    text = ("Intro words here. یک دیپلمات ايراني در استكهلم درخواست پناهندگی داد و "
            "گفت می\u200cخواهد بماند.")
    for query in ("ایرانی", "ايراني", "استکهلم", "میخواهد", "می\u200cخواهد"):
        parts = fmt.highlight(text, fmt.query_terms(fts_query(query)))
        marked = [p for p, hit in parts if hit]
        assert len(marked) == 1, (query, parts)
        assert marked[0] in text  # the original spelling, not the normalised one
    parts = fmt.highlight("General strike spreads; strikers march", fmt.query_terms(
        fts_query("strike*")))
    assert [p for p, hit in parts if hit] == ["strike", "strikers"]
    assert "".join(p for p, _ in fmt.highlight("x" * 900, fmt.query_terms("y"))).endswith("…")
    title = "A long title that mentions the asylum request only at its end"
    assert fmt.mark_all(title, fmt.query_terms("asylum")) == [
        ("A long title that mentions the ", False), ("asylum", True),
        (" request only at its end", False)]


def test_alerts_link_to_their_story_page(make_settings: MakeSettings) -> None:
    settings = make_settings(source_toml("s", "http://s.example/feed"),
                             extra='[web]\nbase_url = "https://reader.example.org/monitor/"\n'
                                   '[[alerts.rule]]\nchannels = ["console"]\n'
                                   '[alerts.console]\nenabled = true\n')
    assert settings.alerts.story_base_url == "https://reader.example.org/monitor"
    store = Store.open(settings.database.path)
    try:
        (story,) = queue(store, "console", ["Envoy defects"])
        out = io.StringIO()
        dispatcher = Dispatcher(settings.alerts, store, {"console": channels.Console(out)},
                                lambda: NOW)
        assert asyncio.run(dispatcher.run_once()).sent == 1
    finally:
        store.close()
    link = f"https://reader.example.org/monitor/stories/{story}"
    assert f"story: {link}" in out.getvalue()
    row = dispatcher._linked(store_row(story))
    assert channels.describe(row)["story_url"] == link
    assert link in str(channels.slack_payload([row], False))
    with pytest.raises(ConfigError, match=r"web\.base_url"):
        make_settings(source_toml("s", "http://s.example/feed"),
                      extra='[web]\nbase_url = "javascript:alert(1)"\n')


def store_row(story_id: int) -> AlertRow:
    return AlertRow(id=1, story_id=story_id, item_id=None, channel="slack", kind="story",
                    state="sending", attempts=1, created_at="", next_attempt_at="",
                    sent_at=None, last_error=None, payload="{}", digest=False, headline="h")


def test_datasette_links_to_the_reader_and_back(make_settings: MakeSettings, base: str) -> None:
    import json

    from monitor.web.links import datasette_metadata

    settings = make_settings(source_toml("s", "http://s.example/feed"),
                             extra='[web]\nbase_url = "https://r.example/m"\n')
    meta = json.loads(datasette_metadata('{"description": "A <db>"}', settings))
    assert meta["description_html"].startswith("A &lt;db&gt; <a href=\"https://r.example/m/\">")
    assert 'href="http://127.0.0.1:8001/"' in get(base + "/").text
