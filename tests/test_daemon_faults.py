"""The daemon under faults, as a real process: SIGTERM with runs in flight, a database lock
held by someone else, SIGKILL and restart."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, MakeSettings, source_toml
from tests.server import Reply, TestServer

FEED = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        b"<item><title>Strike in Tabriz</title><guid isPermaLink='false'>g1</guid>"
        b"<description>Workers stopped.</description></item></channel></rss>")
RSS = {"Content-Type": "application/rss+xml"}


def _daemon(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _config(make_settings: MakeSettings, server: TestServer, n: int, stall: float) -> Path:
    for i in range(n):
        server.route(f"/f/{i}", Reply(200, RSS, FEED, stall_headers=stall))
    sources = "".join(source_toml(f"s{i}", server.url(f"/f/{i}")) for i in range(n))
    settings = make_settings(sources, deadline="10s")
    text = settings.config_path.read_text().replace(
        'interval = "5m"', 'interval = "5m"\ntick = "200ms"\nconcurrency = 10')
    text = text.replace('read_timeout = "1s"', 'read_timeout = "5s"')
    settings.config_path.write_text(text)
    return settings.config_path


def _wait(predicate: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _polled(db_path: Path) -> int:
    try:
        db = sqlite3.connect(db_path)
        try:
            return int(db.execute("SELECT count(*) FROM sources WHERE last_checked_at IS NOT "
                                  "NULL").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_sigterm_with_ten_runs_in_flight_drains_and_exits_0(
        server: TestServer, make_settings: MakeSettings) -> None:
    config = _config(make_settings, server, 10, stall=2.0)
    proc = _daemon(config)
    try:
        assert _wait(lambda: sum(p.startswith("/f/") for p, _ in server.requests) >= 10)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "draining" in err
    assert _polled(config.parent / "test.db") == 10  # every in-flight run finished and wrote


def test_sigkill_restart_and_a_held_write_lock(server: TestServer,
                                               make_settings: MakeSettings) -> None:
    config = _config(make_settings, server, 5, stall=1.0)
    db_path = config.parent / "test.db"
    proc = _daemon(config)
    assert _wait(lambda: sum(p.startswith("/f/") for p, _ in server.requests) >= 5)
    proc.send_signal(signal.SIGKILL)  # mid-run: nothing half-written may remain
    proc.communicate(timeout=10)

    restart = _daemon(config)
    try:
        assert _wait(lambda: _polled(db_path) == 5)
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # a user holds the write lock past the busy timeout
        time.sleep(4)
        holder.execute("ROLLBACK")
        holder.close()
        assert restart.poll() is None  # logged, not fatal
        restart.send_signal(signal.SIGTERM)
        _, err = restart.communicate(timeout=60)
    finally:
        if restart.poll() is None:
            restart.kill()
            restart.communicate()
    assert restart.returncode == 0, err
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    dupes = db.execute("SELECT count(*) FROM (SELECT source_id, entry_key FROM items "
                       "GROUP BY 1, 2 HAVING count(*) > 1)").fetchone()[0]
    assert dupes == 0
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 5
    db.close()


def test_disk_full_rolls_back_then_recovers(server: TestServer,
                                            make_settings: MakeSettings) -> None:
    import asyncio

    from monitor.service.app import poll_sources, running

    big = ("<p>" + "Workers at the refinery stopped work. " * 400 + "</p>").encode()
    items = "".join(f"<item><title>Strike {i}</title><link>{server.url(f'/a/{i}')}</link>"
                    f"<guid>{i}</guid></item>" for i in range(30))
    for i in range(30):
        server.route(f"/a/{i}", Reply(200, {"Content-Type": "text/html"},
                                      b"<html><body><article>" + big + b"</article></body>"))
    server.route("/f", Reply(200, RSS, f"<?xml version='1.0'?><rss version='2.0'><channel>"
                                       f"<title>T</title>{items}</channel></rss>".encode()))
    settings = make_settings(source_toml("full", server.url("/f")))

    async def go() -> tuple[str, str]:
        async with running(settings) as deps:
            pages = deps.store._conn.execute("PRAGMA page_count").fetchone()[0]
            deps.store._conn.execute(f"PRAGMA max_page_count = {pages + 20}")  # a full disk
            (first,) = await poll_sources(deps, ["full"])
            deps.store._conn.execute("PRAGMA max_page_count = 1073741823")  # space returns
            (second,) = await poll_sources(deps, ["full"])
            return first.outcome + ":" + (first.error or ""), second.outcome
    first, second = asyncio.run(go())
    assert first.startswith("error:") and "full" in first
    assert second == "new"
    db = sqlite3.connect(settings.database.path)
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 30
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_a_long_reader_does_not_stop_ingestion(server: TestServer,
                                               make_settings: MakeSettings) -> None:
    import asyncio

    from monitor.service.app import maintain, poll_sources, running

    server.route("/f", Reply(200, RSS, FEED))
    settings = make_settings(source_toml("r", server.url("/f")))

    async def go() -> int:
        async with running(settings) as deps:
            reader = sqlite3.connect(settings.database.path)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM items").fetchone()  # holds a read snapshot
            (report,) = await poll_sources(deps, ["r"])
            assert report.outcome == "new"
            reader.execute("COMMIT")
            reader.close()
            return maintain(deps)["wal_frames_checkpointed"]
    assert asyncio.run(go()) > 0  # checkpointed once the reader let go
