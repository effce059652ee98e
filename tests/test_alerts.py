"""Alerts end to end with real parts: an SMTP server (aiosmtpd, STARTTLS on a test certificate),
HTTP receivers standing in for Slack and webhooks, a real outbox in SQLite."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.alerts import channels
from monitor.alerts import rules as alert_rules
from monitor.alerts.dispatch import Dispatcher
from monitor.alerts.policy import AlertPolicy
from monitor.alerts.rules import AlertRule, ChannelPolicy
from monitor.configuration.settings import Settings
from monitor.service.app import alerting
from storage import Store
from storage.records import (
    AlertRequest,
    ItemContent,
    NewItem,
    PollRecord,
    SourceRecord,
    TopicHit,
)
from tests.conftest import MakeSettings, source_toml, sql
from tests.server import Reply, TestServer

TLS = Path(__file__).parent / "fixtures" / "tls"
NOW = datetime.now(UTC).replace(microsecond=0)
HIT = (TopicHit("defections", 6.0, ("@leaving:asylum", "@state_people:diplomat*")),)


# -- helpers -------------------------------------------------------------------------------------


def queue(store: Store, channel: str, headlines: list[str], *, source: str = "s",
          now: datetime = NOW) -> list[int]:
    """One story per headline, each asking to alert on `channel`; returns story ids."""
    store.sync_sources([SourceRecord(source, source, "feed", f"http://{source}.example/", "en",
                                     source.title(), "topic", 900.0)], now)
    items = []
    for i, headline in enumerate(headlines):
        content = ItemContent(title=headline, text=None, author=None, published_at=now,
                              language="en", status="ok")
        url = f"https://{source}.example/{i}-{abs(hash(headline))}"
        items.append(NewItem(f"url:{url}", None, url, url, source.title(), None, None, None,
                             content, topics=HIT,
                             alerts=(AlertRequest(channel, now, "test-rule"),)))
    summary = store.record_poll(PollRecord(source, now, "new", now + timedelta(minutes=5),
                                           new_items=tuple(items)))
    return list(summary.new_story_ids)


def dispatch(settings: Settings, store: Store, now: datetime = NOW) -> Any:
    async def go() -> Any:
        async with alerting(settings, store, lambda: now) as d:
            return await d.run_once()
    return asyncio.run(go())


def states(store: Store) -> list[tuple[str, int, str | None]]:
    return [(r["state"], r["attempts"], r["last_error"])
            for r in sql(store, "SELECT state, attempts, last_error FROM alerts ORDER BY id")]


SLACK_TOML = """
[alerts]
retry_base = "10s"
max_attempts = 3
timeout = "500ms"
[[alerts.rule]]
channels = ["slack", "webhook"]
[alerts.slack]
enabled = true
webhook_url_env = "SLACK_URL"
flood_max = {flood}
[alerts.webhook]
enabled = {webhook}
url_env = "HOOK_URL"
"""


ENV: dict[str, str] = {}


@pytest.fixture
def slack(server: TestServer, make_settings: MakeSettings, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Store, TestServer]]:
    ENV.update(SLACK_URL=server.url("/services/T000/B000/SECRET-TOKEN-XYZ"),
               HOOK_URL=server.url("/hook"))
    settings = make_settings(extra=SLACK_TOML.format(flood=20, webhook="false"), env=ENV)
    store = Store.open(settings.database.path)
    yield settings, store, server
    store.close()


# -- Slack and webhooks ----------------------------------------------------------------------------

HOSTILE = [
    "Line one\r\nBcc: victim@example.com",
    "Paragraph\u2028separator and \x07bell",
    "<!channel> everyone look",
    "<@U123> ping and <!here>",
    "<https://evil.example|bank.com> click",
    "*bold* _italic_ ~strike~ `code`",
    "دیپلمات ایرانی در اسلو پناهنده شد \u202eevil",
    "A" * 10_000,
]


def test_slack_delivers_escaped_block_kit_once(slack: tuple[Settings, Store, TestServer]) -> None:
    settings, store, server = slack
    server.route("/services/T000/B000/SECRET-TOKEN-XYZ", Reply(200, {}, b"ok"))
    queue(store, "slack", HOSTILE)
    report = dispatch(settings, store)
    assert report.sent == len(HOSTILE) and report.failed == 0
    bodies = [json.loads(b) for _, b in server.posts]
    assert len(bodies) == len(HOSTILE)
    for body in bodies:
        header = body["blocks"][0]["text"]
        assert header["type"] == "plain_text" and len(header["text"]) <= 150
        for block in body["blocks"][1:]:
            text = block["text"]["text"]
            assert len(text) <= 3000
            assert "<!" not in text and "<@" not in text and "<https://evil" not in text
            assert "\r" not in header["text"] and "\u2028" not in header["text"]
    assert dispatch(settings, store).sent == 0  # sent is sent: nothing goes twice
    assert {s for s, _, _ in states(store)} == {"sent"}


@pytest.mark.parametrize(("reply", "state", "retry_at_least"), [
    (Reply(429, {"Retry-After": "120"}, b"rate_limited"), "pending", 120),
    (Reply(503, {"Retry-After": "30"}, b"busy"), "pending", 30),
    (Reply(500, {}, b"oops"), "pending", 10),
    (Reply(400, {}, b"invalid_payload"), "failed", None),
    (Reply(404, {}, b"no_service"), "failed", None),
    (Reply(200, {}, b"ok", stall_headers=3.0), "pending", 10),  # hangs past the 500 ms limit
])
def test_channel_failures_retry_or_fail_and_never_leak_the_url(
        slack: tuple[Settings, Store, TestServer], reply: Reply, state: str,
        retry_at_least: int | None) -> None:
    settings, store, server = slack
    server.route("/services/T000/B000/SECRET-TOKEN-XYZ", reply)
    queue(store, "slack", ["Envoy defects"])
    report = dispatch(settings, store)
    assert report.sent == 0
    (row,) = sql(store, "SELECT * FROM alerts")
    assert row["state"] == state and row["last_error"]
    assert "SECRET-TOKEN" not in row["last_error"]
    if retry_at_least is not None:
        delay = datetime.fromisoformat(row["next_attempt_at"].replace("Z", "+00:00")) - NOW
        assert delay.total_seconds() >= retry_at_least


def test_transient_failures_give_up_after_max_attempts(
        slack: tuple[Settings, Store, TestServer]) -> None:
    settings, store, server = slack
    server.route("/services/T000/B000/SECRET-TOKEN-XYZ", Reply(500, {}, b"oops"))
    queue(store, "slack", ["Envoy defects"])
    moment = NOW
    for _ in range(3):
        dispatch(settings, store, moment)
        moment += timedelta(hours=2)
    assert states(store)[0][:2] == ("failed", 3)


def test_webhook_gets_json_and_recovers_after_an_outage(
        slack: tuple[Settings, Store, TestServer], make_settings: MakeSettings) -> None:
    settings, store, server = slack
    from monitor.configuration.settings import load_settings

    text = settings.config_path.read_text().replace(
        'channels = ["slack", "webhook"]', 'channels = ["webhook"]').replace(
        "[alerts.webhook]\nenabled = false", "[alerts.webhook]\nenabled = true")
    settings.config_path.write_text(text)
    settings = load_settings(settings.config_path, env=ENV)
    server.route("/hook", Reply(503, {}, b""))
    queue(store, "webhook", ["Strike spreads"])
    dispatch(settings, store)
    server.route("/hook", Reply(204, {}, b""))
    dispatch(settings, store, NOW + timedelta(minutes=5))
    body = json.loads(server.posts[-1][1])
    assert body["headline"] == "Strike spreads" and body["topics"][0]["topic"] == "defections"
    assert states(store)[0][0] == "sent"


def test_flood_guard_switches_to_digests(slack: tuple[Settings, Store, TestServer],
                                         make_settings: MakeSettings) -> None:
    settings, store, server = slack
    from monitor.configuration.settings import load_settings

    settings.config_path.write_text(settings.config_path.read_text().replace(
        "flood_max = 20", "flood_max = 2"))
    settings = load_settings(settings.config_path, env=ENV)
    server.route("/services/T000/B000/SECRET-TOKEN-XYZ", Reply(200, {}, b"ok"))
    queue(store, "slack", [f"Story {i}" for i in range(5)])
    first = dispatch(settings, store)
    assert first.sent == 5 and len(server.posts) == 3  # two single messages, one digest of 3
    queue(store, "slack", [f"Later {i}" for i in range(3)], source="t")
    second = dispatch(settings, store, NOW + timedelta(seconds=5))
    assert second.sent == 0 and second.deferred == 3  # held: one digest per flood window
    third = dispatch(settings, store, NOW + timedelta(minutes=11))
    assert third.sent == 3 and len(server.posts) == 4


# -- email -----------------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int, int]]:
    """Two servers: STARTTLS with login required, and a plain one that offers no STARTTLS."""
    inbox = _Inbox()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(TLS / "test-cert.pem", TLS / "test-key.pem")

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"monitor" \
            and data.password == b"s3cret-pw"
        return AuthResult(success=ok, handled=False)  # let the server answer 535 itself

    secure = Controller(inbox, hostname="127.0.0.1", port=_free_port(), tls_context=ctx,
                        require_starttls=True, authenticator=auth, auth_required=True)
    plain = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    secure.start()
    plain.start()
    yield inbox, secure.port, plain.port
    secure.stop()
    plain.stop()


def _email_settings(make_settings: MakeSettings, port: int, *, ca: bool = True,
                    password: str = "s3cret-pw") -> Settings:
    from monitor.configuration.settings import load_settings

    settings = make_settings(extra=f"""
[alerts]
timeout = "5s"
[[alerts.rule]]
channels = ["email"]
[alerts.email]
enabled = true
host = "127.0.0.1"
port = {port}
to = ["desk@example.org"]
username = "monitor"
password_env = "SMTP_PW"
ca_file = "{TLS / 'test-cert.pem' if ca else ''}"
""", env={"SMTP_PW": password})
    return load_settings(settings.config_path, env={"SMTP_PW": password})


def test_email_over_starttls_with_a_verified_certificate(
        smtp: tuple[_Inbox, int, int], make_settings: MakeSettings,
        caplog: pytest.LogCaptureFixture) -> None:
    inbox, port, _ = smtp
    settings = _email_settings(make_settings, port)
    store = Store.open(settings.database.path)
    queue(store, "email", [HOSTILE[0], HOSTILE[6]])
    report = dispatch(settings, store)
    store.close()
    assert report.sent == 2 and len(inbox.messages) == 2
    import email
    from email import policy

    parsed = [email.message_from_bytes(m.content, policy=policy.default) for m in inbox.messages]
    subjects = [str(m["Subject"]) for m in parsed]
    assert any("Line one Bcc: victim@example.com" in s for s in subjects), subjects
    assert all(m["Bcc"] is None and "\n" not in str(m["Subject"]) for m in parsed)
    assert any("پناهنده" in s for s in subjects)
    assert all(m.get_body(("plain",)) and m.get_body(("html",)) for m in parsed)
    assert "s3cret-pw" not in caplog.text


@pytest.mark.parametrize(("which", "ca", "password", "error"), [
    ("secure", False, "s3cret-pw", "certificate not trusted"),
    ("plain", True, "s3cret-pw", "does not offer STARTTLS"),
    ("secure", True, "wrong", "login refused"),
])
def test_email_refuses_unsafe_or_unauthorised_sends(
        smtp: tuple[_Inbox, int, int], make_settings: MakeSettings, which: str, ca: bool,
        password: str, error: str) -> None:
    inbox, secure_port, plain_port = smtp
    settings = _email_settings(make_settings, secure_port if which == "secure" else plain_port,
                               ca=ca, password=password)
    store = Store.open(settings.database.path)
    queue(store, "email", ["Envoy defects"])
    dispatch(settings, store)
    (state, _, last_error) = states(store)[0]
    store.close()
    assert state == "failed" and error in (last_error or "")
    assert "s3cret-pw" not in (last_error or "") and "wrong" not in (last_error or "")
    assert inbox.messages == []


# -- once per story, stale items, back-fill, digests ---------------------------------------------


def test_a_story_alerts_once_per_channel_even_from_a_later_fuller_copy(store: Store) -> None:
    store.sync_sources([SourceRecord("a", "A", "feed", "http://a.example/", "en", "A", "topic",
                                     900.0)], NOW)
    url = "https://a.example/story"

    def item(key: str, with_alert: bool) -> NewItem:
        c = ItemContent(title="Envoy defects", text=None, author=None, published_at=NOW,
                        language="en", status="ok")
        return NewItem(key, None, url, url, "A", None, None, None, c,
                       topics=HIT if with_alert else (),
                       alerts=(AlertRequest("console", NOW, "r"),) if with_alert else ())
    store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(item("k1", False),)))
    assert sql(store, "SELECT count(*) FROM alerts")[0][0] == 0  # a teaser below threshold
    later = store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(item("k2", True),)))
    assert later.alerts == 1  # the fuller copy matched: the story alerts now
    again = store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(item("k3", True),)))
    assert again.alerts == 0 and sql(store, "SELECT count(*) FROM alerts")[0][0] == 1


def test_rollups_once_per_threshold_and_mute(store: Store) -> None:
    url = "https://x.example/s"
    policy = AlertPolicy(rollup_thresholds=(3, 5, 7))

    def carry(n: int) -> int:
        sid = f"s{n}"
        store.sync_sources([SourceRecord(sid, sid, "feed", f"http://{sid}.example/", "en",
                                         f"Outlet {n}", "topic", 900.0)], NOW)
        c = ItemContent(title="Envoy defects", text=None, author=None, published_at=NOW,
                        language="en", status="ok")
        return store.record_poll(PollRecord(sid, NOW, "new", NOW, new_items=(NewItem(
            "k", None, url, url, f"Outlet {n}", None, None, None, c, topics=HIT,
            alerts=(AlertRequest("console", NOW, "r"),)),)), policy=policy).alerts

    for n in range(6):
        carry(n)
    kinds = sorted(r[0] for r in sql(store, "SELECT kind FROM alerts"))
    assert kinds == ["pickup:3", "pickup:5", "story"]
    story = sql(store, "SELECT id FROM stories")[0][0]
    store.mute_story(story)
    assert sql(store, "SELECT muted FROM stories")[0][0] == 1
    assert carry(6) == 0  # the seventh outlet reaches a threshold, but the story is muted
    assert sql(store, "SELECT count(*) FROM alerts WHERE kind = 'pickup:7'")[0][0] == 0


POLICY = {"console": ChannelPolicy("console", True, "immediate", 3600, 20, 600),
          "email": ChannelPolicy("email", True, "digest", 3600, 20, 600),
          "slack": ChannelPolicy("slack", False, "immediate", 3600, 20, 600)}
RULES = (AlertRule("r", ("defections",), 5, ("en",), (), ("console", "email", "slack")),)


def test_alert_requests_respect_age_backfill_rules_and_digests() -> None:
    def ask(**kw: Any) -> tuple[AlertRequest, ...]:
        args: dict[str, Any] = {"hits": HIT, "language": "en", "source_id": "s",
                                "published_at": NOW, "now": NOW, "max_age": 86400,
                                "backfill": False}
        args.update(kw)
        return alert_rules.requests(RULES, POLICY, **args)
    got = ask()
    assert [r.channel for r in got] == ["console", "email"]  # slack is disabled
    assert got[0].due_at == NOW and got[1].digest and got[1].due_at > NOW
    assert ask(published_at=NOW - timedelta(hours=25)) == ()  # stale
    assert ask(backfill=True) == ()  # a new source's first poll
    assert ask(language="fa") == ()
    assert ask(hits=(TopicHit("defections", 4.0, ()),)) == ()  # under min_score


def test_console_channel_prints_one_block_per_story(capsys: pytest.CaptureFixture[str],
                                                   store: Store) -> None:
    queue(store, "console", ["Envoy defects", "Strike spreads"])
    rows = store.claim_alerts("console", NOW)
    asyncio.run(channels.Console().send(rows, digest=False))
    out = capsys.readouterr().out
    assert out.count("ALERT New story") == 2 and "defections" in out


def test_alerts_commands(make_settings: MakeSettings, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    settings = make_settings(source_toml("s", "http://s.example/feed"),
                             extra='[[alerts.rule]]\nchannels = ["console"]\n'
                                   '[alerts.console]\nenabled = true\n')
    config = str(settings.config_path)
    assert main(["--config", config, "alerts", "test"]) == 0
    assert "console: ok" in capsys.readouterr().out
    store = Store.open(settings.database.path)
    (story,) = queue(store, "console", ["Envoy defects"])
    store.close()
    assert main(["--config", config, "alerts", "list"]) == 0
    assert "Envoy defects" in capsys.readouterr().out
    assert main(["--config", config, "alerts", "mute", str(story)]) == 0
    assert main(["--config", config, "alerts", "mute", "999"]) == 1  # not found


def test_dispatcher_survives_a_locked_database_and_loses_nothing(
        slack: tuple[Settings, Store, TestServer]) -> None:
    settings, store, server = slack
    server.route("/services/T000/B000/SECRET-TOKEN-XYZ", Reply(200, {}, b"ok"))
    queue(store, "slack", ["Envoy defects"])
    import sqlite3

    from storage import StorageError

    blocker = sqlite3.connect(settings.database.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError):
            Dispatcher(settings.alerts, store, {}, lambda: NOW).store.claim_alerts("slack", NOW)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert dispatch(settings, store).sent == 1
