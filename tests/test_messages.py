"""Alerts written for a journalist, and email headers every reader decodes alike.

Real parts: messages go through aiosmtpd and are parsed back with the `email` package; Slack
posts go to a loopback receiver; the outbox is a real SQLite file.
"""

from __future__ import annotations

import asyncio
import email
import email.utils
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.alerts import channels, mail, messages
from monitor.configuration.settings import Settings, load_settings
from monitor.service.app import alerting
from storage import Store
from storage.records import AlertRequest, ItemContent, NewItem, PollRecord, SourceRecord, TopicHit
from tests.conftest import MakeSettings, sql
from tests.server import Reply, TestServer
from tests.test_alerts import _free_port, _Inbox

NOW = datetime(2026, 3, 10, 22, 5, tzinfo=UTC)  # 01:35 the next day in Tehran
FA_HEADLINE = "تهیه\u200cکننده شبکه خبر در آمستردام ماند و از صداوسیما استعفا داد"
FA_TEXT = ("یک تهیه\u200cکننده ارشد شبکه خبر پس از سفر کاری به آمستردام به ایران بازنگشت. "
           "او در نامه\u200cای کوتاه از صداوسیما استعفا داد. همکارانش می\u200cگویند او "
           "ماه\u200cها تحت فشار بود. این جمله چهارم است و نباید در خلاصه بیاید.\n"
           "بند دوم.")
EN_HEADLINE = "Iranian diplomat in Vienna seeks asylum, Austrian officials confirm"
EN_TEXT = ("A second secretary at Iran's embassy in Vienna has sought asylum in Austria, "
           "officials said on Monday. He left his residence late last week. His family is "
           "with him. A fourth sentence that the lede leaves out.")
FA_HIT = (TopicHit("defections", 6.0, ("@leaving:استعفا داد", "@state_people:صداوسیما")),)
EN_HIT = (TopicHit("defections", 6.0, ("@leaving:sought asylum", "@state_people:diplomat*")),)


def add_story(store: Store, channel: str, headline: str, text: str, language: str,
              hits: tuple[TopicHit, ...], *, source: str = "s", n: int = 0,
              now: datetime = NOW) -> int:
    store.sync_sources([SourceRecord(source, source, "feed", f"http://{source}.example/",
                                     language, f"{source.title()} News", "topic", 900.0)], now)
    url = f"https://{source}.example/story-{n}"
    content = ItemContent(title=headline, text=text, author=None,
                          published_at=now - timedelta(minutes=3), language=language,
                          status="ok")
    item = NewItem(f"url:{url}", None, url, url, f"{source.title()} News", None, None, None,
                   content, topics=hits, alerts=(AlertRequest(channel, now, "rule"),))
    summary = store.record_poll(PollRecord(source, now, "new", now + timedelta(minutes=5),
                                           new_items=(item,)))
    return int(summary.new_story_ids[0])


def dispatch(settings: Settings, store: Store, now: datetime) -> Any:
    async def go() -> Any:
        async with alerting(settings, store, lambda: now) as d:
            return await d.run_once()
    return asyncio.run(go())


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    server.start()
    yield inbox, server.port
    server.stop()


def _email_settings(make_settings: MakeSettings, port: int) -> Settings:
    return make_settings(extra=f"""
[[alerts.rule]]
channels = ["email"]
[alerts.email]
enabled = true
host = "127.0.0.1"
port = {port}
security = "none"
from = "Desk <feed-monitor@newsroom.example>"
to = "desk@newsroom.example"
""")


def test_email_headers_parse_back_exactly(smtp: tuple[_Inbox, int],
                                          make_settings: MakeSettings) -> None:
    inbox, port = smtp
    settings = _email_settings(make_settings, port)
    # one string is accepted
    assert settings.alerts.options["email"].to == ("desk@newsroom.example",)
    store = Store.open(settings.database.path)
    add_story(store, "email", FA_HEADLINE, FA_TEXT, "fa", FA_HIT, source="fa")
    add_story(store, "email", EN_HEADLINE, EN_TEXT, "en", EN_HIT, source="en")
    assert dispatch(settings, store, NOW).sent == 2
    store.close()
    raw = [m.content for m in inbox.messages]
    parsed = [email.message_from_bytes(r, policy=policy.default) for r in raw]
    subjects = sorted(str(m["Subject"]) for m in parsed)
    assert subjects == sorted([f"[feed-monitor] New story: {FA_HEADLINE}",
                               f"[feed-monitor] New story: {EN_HEADLINE}"])
    # the legacy decoder joins encoded words the same way: no space lost between words
    legacy = sorted(str(make_header(decode_header(email.message_from_bytes(r)["Subject"])))
                    for r in raw)
    assert legacy == subjects
    for m in parsed:
        assert email.utils.parsedate_to_datetime(str(m["Date"])).tzinfo is not None
        assert str(m["Message-ID"]).endswith("@newsroom.example>")
    english = next(r for r in raw if b"Vienna" in r)
    assert f"Subject: [feed-monitor] New story: {EN_HEADLINE}\r\n".encode() in english
    ids = {str(m["Message-ID"]) for m in parsed}
    assert len(ids) == 2


@pytest.mark.parametrize("headline", [FA_HEADLINE, "A" * 300, f"{EN_HEADLINE} {FA_HEADLINE}",
                                      "x" * 40 + "\u200c" * 30 + "é" * 50])
def test_subject_folding_keeps_every_character(headline: str) -> None:
    msg = mail.build("a@b.example", ["c@d.example"], headline, "t", "<p>t</p>", NOW)
    raw = msg.as_bytes()
    header = raw.split(b"\r\n\r\n")[0]
    assert all(len(line) <= 998 for line in header.split(b"\r\n"))
    assert all(len(w) <= 75 for w in header.split() if w.startswith(b"=?"))
    assert str(email.message_from_bytes(raw, policy=policy.default)["Subject"]) == headline


def test_the_email_reads_like_news_in_both_directions(smtp: tuple[_Inbox, int],
                                                      make_settings: MakeSettings) -> None:
    inbox, port = smtp
    settings = _email_settings(make_settings, port)
    store = Store.open(settings.database.path)
    add_story(store, "email", FA_HEADLINE, FA_TEXT, "fa", FA_HIT)
    dispatch(settings, store, NOW)
    store.close()
    msg = email.message_from_bytes(inbox.messages[0].content, policy=policy.default)
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert FA_HEADLINE in plain and 'dir="rtl" lang="fa"' in html
    assert "10 Mar 2026, 22:05 UTC (01:35 11 Mar in Tehran)" in plain
    # the lede: the first three sentences, character for character, not the fourth
    assert FA_TEXT.split(" این جمله چهارم")[0] in plain and "چهارم" not in plain
    assert ("defections: matched «\u2068استعفا داد\u2069» and «\u2068صداوسیما\u2069» in the "
            "headline") in plain
    assert "@leaving" not in plain and "@leaving" not in html
    assert "https://s.example/story-0" in plain
    assert "S News first (1 outlet)" in plain


def test_slack_names_the_headline_once(server: TestServer, make_settings: MakeSettings) -> None:
    settings = make_settings(extra="""
[[alerts.rule]]
channels = ["slack"]
[alerts.slack]
enabled = true
webhook_url_env = "SLACK_URL"
""", env={"SLACK_URL": server.url("/hook")})
    server.route("/hook", Reply(200, {}, b"ok"))
    store = Store.open(settings.database.path)
    add_story(store, "slack", EN_HEADLINE, EN_TEXT, "en", EN_HIT)
    dispatch(settings, store, NOW)
    store.close()
    body = json.loads(server.posts[0][1])
    shown = json.dumps(body["blocks"], ensure_ascii=False)
    assert shown.count("Iranian diplomat in Vienna") == 1
    assert body["blocks"][0]["text"]["text"] == "New story · defections"
    assert "sought asylum" in shown and "His family is with him." in shown


def test_service_notices_have_their_own_template() -> None:
    from monitor.commands.operations import _TEST_ROW
    from storage.records import AlertRow

    operator = AlertRow(id=3, story_id=0, item_id=None, channel="email",
                        kind="operator:failing:azadi", state="sending", attempts=1,
                        created_at="2026-03-10T22:05:00Z", next_attempt_at="", sent_at=None,
                        last_error=None, payload="{}", digest=False,
                        headline="source azadi-news is failing: HTTP 503 (5 errors in a row)")
    for row in (operator, _TEST_ROW):
        text = messages.plain_text([row], False, "email")
        html = messages.html_body([row], False, "email")
        slack = json.dumps(channels.slack_payload([row], False))
        for shown in (text, html, slack):
            assert "outlet" not in shown and "first seen" not in shown.lower()
    assert messages.plain_text([_TEST_ROW], False, "email").startswith(
        "Test message from feed-monitor: the email channel works.")
    assert "Service notice" in messages.plain_text([operator], False, "email")
    assert messages.subject([_TEST_ROW], False) == "[feed-monitor] Test message"


def test_tehran_time_needs_the_tz_database() -> None:
    assert messages.when("2026-06-01T12:00:00Z") == "1 Jun 2026, 12:00 UTC (15:30 in Tehran)"


# -- the flood guard -----------------------------------------------------------------------------


def _flood_settings(server: TestServer, make_settings: MakeSettings) -> Settings:
    server.route("/hook", Reply(200, {}, b"ok"))
    return make_settings(extra="""
[[alerts.rule]]
channels = ["slack"]
[alerts.slack]
enabled = true
webhook_url_env = "SLACK_URL"
flood_max = 2
flood_window = "10m"
""", env={"SLACK_URL": server.url("/hook")})


def test_flood_holds_a_new_story_a_minute_at_most_and_rolls_up_later_ones(
        server: TestServer, make_settings: MakeSettings) -> None:
    settings = _flood_settings(server, make_settings)
    store = Store.open(settings.database.path)
    for n in range(5):
        add_story(store, "slack", f"Strike spreads to refinery {n}", EN_TEXT, "en", EN_HIT, n=n)
    first = dispatch(settings, store, NOW)
    assert first.sent == 5 and len(server.posts) == 3  # two messages, then one roll-up of 3
    rollup = json.loads(server.posts[2][1])
    context = rollup["blocks"][1]["elements"][0]["text"]
    assert "more than 2 alerts came within 10 min" in context and "flood guard" in context
    entries = [b["text"]["text"] for b in rollup["blocks"][2:]]
    assert len(entries) == 3 and all(e.startswith("New story · defections\n") for e in entries)
    # more news 20 s later: held, but not for the window: for the rest of the minute
    for n in range(5, 8):
        add_story(store, "slack", f"Strike spreads to refinery {n}", EN_TEXT, "en", EN_HIT, n=n)
    with store._transaction() as conn:  # a roll-up of a story that alerted: it can wait the window
        conn.execute("INSERT INTO alerts (story_id, channel, kind, state, created_at, "
                     "next_attempt_at, payload) SELECT story_id, channel, 'pickup:5', 'pending', "
                     "created_at, created_at, '{}' FROM alerts WHERE id = 1")
    held = dispatch(settings, store, NOW + timedelta(seconds=20))
    assert held.sent == 0 and held.deferred == 4
    due = {r["kind"]: r["next_attempt_at"] for r in sql(
        store, "SELECT kind, max(next_attempt_at) AS next_attempt_at FROM alerts "
        "WHERE state = 'pending' GROUP BY kind")}
    assert due["story"] <= (NOW + timedelta(seconds=61)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert due["pickup:5"] >= (NOW + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # a stop now (SIGTERM) loses nothing: the held rows are pending in the outbox, and the
    # next start sends the new stories within the minute
    store.close()
    store = Store.open(settings.database.path)
    later = dispatch(settings, store, NOW + timedelta(seconds=61))
    assert later.sent == 3
    last = json.loads(server.posts[-1][1])
    assert "refinery 7" in json.dumps(last)
    assert last["blocks"][0]["text"]["text"] == "feed-monitor digest: 3 alerts"
    pickup = dispatch(settings, store, NOW + timedelta(minutes=11))
    assert pickup.sent == 1
    entry = json.loads(server.posts[-1][1])["blocks"][2]["text"]["text"]
    assert entry.startswith("Now carried by")
    store.close()


def test_email_to_as_one_string_and_as_a_list(tmp_path: Path, make_settings: MakeSettings) -> None:
    for to in ('"me@example.org"', '["me@example.org", "you@example.org"]'):
        settings = make_settings(extra=f"""
[[alerts.rule]]
channels = ["email"]
[alerts.email]
enabled = true
security = "none"
to = {to}
""")
        loaded = load_settings(settings.config_path, env={})
        assert "me@example.org" in loaded.alerts.options["email"].to


def test_the_readme_shows_the_messages_the_code_renders() -> None:
    from monitor.demo import samples
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for marker, rendered in (("<!-- sample-email -->", samples.email_text()),
                             ("<!-- sample-slack -->", samples.slack_text())):
        block = readme.split(marker, 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
        assert block == rendered, f"README out of date: python -m monitor.demo.samples\n{rendered}"
