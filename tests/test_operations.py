"""Daemon operations: status and its exit code, one daemon per database, sd_notify, SIGHUP
reload, operator alerts for failing sources, online backup."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.errors import MonitorError
from monitor.service.lifecycle import InstanceLock, check_health, notify
from storage import Store
from storage.records import PollRecord
from tests.conftest import REPO, MakeSettings, source_toml
from tests.server import Reply, TestServer

NOW = datetime.now(UTC).replace(microsecond=0)


def test_status_is_unhealthy_without_a_daemon_and_with_a_failing_source(
        make_settings: MakeSettings, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(source_toml("a", "http://a.example/feed")
                             + source_toml("b", "http://b.example/feed"))
    config = str(settings.config_path)
    assert main(["--config", config, "migrate"]) == 0
    assert main(["--config", config, "status"]) == 1
    assert "the daemon is not running (never started)" in capsys.readouterr().out
    store = Store.open(settings.database.path)
    store.sync_sources([], NOW)  # sources come from the config on open in the daemon
    from monitor.service.app import source_records
    store.sync_sources(source_records(settings.sources), NOW)
    store.heartbeat(datetime.now(UTC), starting=True)
    assert main(["--config", config, "status"]) == 0
    for _ in range(5):
        store.record_poll(PollRecord("a", NOW, "error", NOW, error="HTTP 500 Server Error"))
    store.close()
    assert main(["--config", config, "status"]) == 1
    out = capsys.readouterr().out
    assert "source a is failing" in out and "HTTP 500" in out


def test_failing_then_recovered_source_sends_one_operator_alert_each(
        make_settings: MakeSettings) -> None:
    settings = make_settings(source_toml("a", "http://a.example/feed"),
                             extra='[[alerts.rule]]\nchannels = ["console"]\n'
                                   '[alerts.console]\nenabled = true\n')
    store = Store.open(settings.database.path)
    from monitor.service.app import source_records
    store.sync_sources(source_records(settings.sources), NOW)
    store.record_poll(PollRecord("a", NOW, "no_new", NOW))
    for _ in range(5):
        store.record_poll(PollRecord("a", NOW, "error", NOW, error="timed out"))
    assert check_health(settings, store, NOW, ["console"]) == [("a", "ok", "failing")]
    assert check_health(settings, store, NOW, ["console"]) == []  # told once
    store.record_poll(PollRecord("a", NOW, "no_new", NOW))
    assert check_health(settings, store, NOW, ["console"]) == [("a", "failing", "ok")]
    rows = store.alert_rows()
    assert sorted(r.headline.split(" ")[-1] for r in rows) == ["out)", "recovered"]
    store.close()


def test_only_one_daemon_per_database(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with InstanceLock(db), pytest.raises(MonitorError, match="another monitor daemon"), \
            InstanceLock(db):
        pass
    with InstanceLock(db):  # released on exit
        pass


def test_sd_notify_datagrams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        assert notify("READY=1")
        assert sock.recv(100) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("READY=1") is False


def test_backup_while_writing(make_settings: MakeSettings, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(source_toml("a", "http://a.example/feed"))
    config = str(settings.config_path)
    assert main(["--config", config, "migrate"]) == 0
    writer = sqlite3.connect(settings.database.path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO dedup_params (params) VALUES ('uncommitted')")
    try:
        assert main(["--config", config, "backup", str(tmp_path / "copy.db")]) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM dedup_params").fetchone()[0] == 0
    copy.close()


def test_daemon_lifecycle_notify_reload_and_second_instance(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path) -> None:
    server.route("/feed", Reply(200, {"Content-Type": "application/rss+xml"},
                                b"<?xml version='1.0'?><rss version='2.0'><channel><title>T"
                                b"</title></channel></rss>"))
    settings = make_settings(source_toml("a", server.url("/feed")), extra="")
    text = settings.config_path.read_text().replace('interval = "5m"',
                                                    'interval = "5m"\ntick = "200ms"')
    settings.config_path.write_text(text)
    notify_path = str(tmp_path / "n.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(30)
    env = {**os.environ, "NOTIFY_SOCKET": notify_path}
    cmd = [sys.executable, "-m", "monitor", "--config", str(settings.config_path), "run"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert sock.recv(100) == b"READY=1"
        second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "another monitor daemon" in second.stderr
        # a broken configuration on SIGHUP is refused; a good one with a new source is applied
        sources = settings.config_path.parent / "sources.toml"
        good = sources.read_text()
        sources.write_text(good + "[[source]]\nid = broken\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        sources.write_text(good + source_toml("b", server.url("/feed")))
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        db = sqlite3.connect(settings.database.path)
        while time.monotonic() < deadline:
            if db.execute("SELECT count(*) FROM sources WHERE id = 'b' AND last_checked_at "
                          "IS NOT NULL").fetchone()[0]:
                break
            time.sleep(0.2)
        db.close()
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(100) == b"STOPPING=1"
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sock.close()
    assert proc.returncode == 0, err
    assert "reload refused, keeping the running configuration" in err
    assert "configuration reloaded: 2 sources" in err
    db = sqlite3.connect(settings.database.path)
    assert db.execute("SELECT last_checked_at IS NOT NULL FROM sources WHERE id = 'b'"
                      ).fetchone()[0] == 1
    assert db.execute("SELECT stopped_at IS NOT NULL FROM daemon").fetchone()[0] == 1
    db.close()
    assert time  # keep the import used on every path
    assert timedelta


def test_revisits_record_edits_and_deletions(server: TestServer,
                                             make_settings: MakeSettings) -> None:
    import asyncio
    from email.utils import format_datetime

    from monitor.service.app import poll_sources, running
    from monitor.service.revisit import revisit_due
    from tests.test_alerts_crash import article
    from tests.test_pipeline import HTML, RSS, rss

    now = datetime.now(UTC)
    settings = make_settings(source_toml("a", server.url("/feed")),
                             extra='[[alerts.rule]]\nchannels = ["console"]\n'
                                   '[alerts.console]\nenabled = true\n')
    server.route("/feed", Reply(200, RSS, rss([])))
    headline = "Iranian diplomat defects in Oslo and seeks asylum"
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")

    async def go() -> None:
        clock = [now]
        async with running(settings, clock=lambda: clock[0]) as deps:
            await poll_sources(deps, ["a"])  # back-fill
            url = server.route("/a/1", Reply(200, HTML, article(headline, stamp)))
            server.route("/feed", Reply(200, RSS, rss([("g1", url, headline)],
                                                      date=format_datetime(now, usegmt=True))))
            clock[0] = now + timedelta(minutes=10)
            (report,) = await poll_sources(deps, ["a"])
            assert report.alerts == 1
            server.route("/a/1", Reply(200, HTML, article(headline + " (updated)", stamp)))
            clock[0] = now + timedelta(hours=2)
            assert await revisit_due(deps, settings.alerts.revisits) == 1
            server.route("/a/1", Reply(410, {}, b"gone"))
            clock[0] = now + timedelta(hours=8)
            assert await revisit_due(deps, settings.alerts.revisits) == 1

    asyncio.run(go())
    db = sqlite3.connect(settings.database.path)
    row = db.execute("SELECT title, revisits, removed_detail, next_revisit_at FROM items"
                     ).fetchone()
    assert row[0].endswith("(updated)") and row[1] == 2 and row[2] == "HTTP 410"
    assert row[3] is None
    assert db.execute("SELECT reason FROM item_versions").fetchone()[0] == "revisit"
    db.close()


def test_a_clock_jump_back_does_not_stall_sources(store: Store) -> None:
    from storage.records import SourceRecord

    store.sync_sources([SourceRecord("a", "A", "feed", "http://a.example/", "en", "A", "topic",
                                     900.0)], NOW)
    # scheduled by a clock that ran a week ahead
    store.record_poll(PollRecord("a", NOW, "no_new", NOW + timedelta(days=7)))
    assert store.due_sources(NOW) == []
    assert store.due_sources(NOW, horizon=timedelta(hours=12)) == ["a"]


def test_429_then_503_then_recovery(server: TestServer, make_settings: MakeSettings) -> None:
    import asyncio

    from monitor.service.app import poll_sources, running

    settings = make_settings(source_toml("a", server.url("/feed")))
    db_path = settings.database.path

    async def cycle(reply: Reply) -> None:
        server.route("/feed", reply)
        async with running(settings) as deps:
            await poll_sources(deps, ["a"])

    def state() -> tuple[int, float]:
        db = sqlite3.connect(db_path)
        errors, checked, next_at = db.execute(
            "SELECT error_count, last_checked_at, next_check_at FROM sources").fetchone()
        db.close()
        gap = datetime.fromisoformat(next_at.replace("Z", "+00:00")) - \
            datetime.fromisoformat(checked.replace("Z", "+00:00"))
        return errors, gap.total_seconds()

    asyncio.run(cycle(Reply(429, {"Retry-After": "600"}, b"slow down")))
    errors, gap = state()
    assert errors == 1 and gap >= 600
    asyncio.run(cycle(Reply(503, {"Retry-After": "60"}, b"")))
    errors, gap = state()
    assert errors == 2 and gap >= 60
    feed = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
            b"</channel></rss>")
    asyncio.run(cycle(Reply(200, {"Content-Type": "application/rss+xml"}, feed)))
    errors, gap = state()
    assert errors == 0 and 300 <= gap <= 300 * 1.1 + 1  # back on its 5-minute interval
