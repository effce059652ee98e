"""Crash and restart: `monitor once` is SIGKILLed while it is sending alerts, then run again.

No alert may be lost, and none may be delivered twice except the one that was on the wire when
the process died (the documented window: sent, but not yet marked sent).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.conftest import REPO, MakeSettings, source_toml
from tests.server import Reply, TestServer
from tests.test_pipeline import HTML, RSS, rss

HEADLINES = ["Iranian diplomat defects in Oslo and seeks asylum",
             "IRGC officer flees to Turkey and asks for asylum",
             "State TV presenter defects, refuses to return to Iran"]


def article(headline: str, published: str) -> bytes:
    """A page whose text is its own (distinct stories must not look like copies)."""
    words = headline.split()
    paragraphs = "".join(
        f"<p>{' '.join(words[k:] + words[:k])} was reported by officials and witnesses in "
        f"paragraph {k} of this account, which differs from every other story.</p>"
        for k in range(len(words)))
    return (f"<html lang='en'><head><title>{headline}</title><meta property="
            f"'article:published_time' content='{published}'></head><body><article>"
            f"<h1>{headline}</h1>{paragraphs}</article></body></html>").encode()


class Receiver:
    """A webhook endpoint that can hang (never answer) or accept (204)."""

    def __init__(self) -> None:
        self.hang = True
        self.arrived: list[str] = []
        self.delivered: list[str] = []
        self.release = threading.Event()

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.body)  # type: ignore[attr-defined]
        self.arrived.append(body["headline"])
        if self.hang:
            self.release.wait(30)
            return
        h.send_response(204)
        h.send_header("Content-Length", "0")
        h.end_headers()
        self.delivered.append(body["headline"])


def monitor(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_while_sending_loses_nothing_and_repeats_at_most_the_inflight_alert(
        server: TestServer, make_settings: MakeSettings, tmp_path: Path) -> None:
    receiver = Receiver()
    server.route("/hook", receiver)
    server.route("/feed", Reply(200, RSS, rss([])))
    settings = make_settings(source_toml("wire", server.url("/feed")),
                             env={"HOOK": server.url("/hook")},  # URLs are checked at load
                             extra="""
[alerts]
timeout = "20s"
[[alerts.rule]]
channels = ["webhook"]
[alerts.webhook]
enabled = true
url_env = "HOOK"
""")
    config = settings.config_path
    import os
    os.environ["HOOK"] = server.url("/hook")
    try:
        # the first poll is a silent back-fill; then three defections are published
        first = monitor(config, "once", "--all")
        first.communicate(timeout=60)
        assert first.returncode == 0
        now = datetime.now(UTC)
        items = []
        for i, headline in enumerate(HEADLINES):
            page = article(headline, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
            items.append((f"g{i}", server.route(f"/a/{i}", Reply(200, HTML, page)), headline))
        server.route("/feed", Reply(200, RSS, rss(items, date=format_datetime(now, usegmt=True))))

        proc = monitor(config, "once", "--all")
        db = sqlite3.connect(settings.database.path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sending = db.execute("SELECT count(*) FROM alerts WHERE state = 'sending'"
                                 ).fetchone()[0]
            if sending and receiver.arrived:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        states = dict(db.execute("SELECT state, count(*) FROM alerts GROUP BY state").fetchall())
        assert sum(states.values()) == 3 and states.get("sent", 0) == 0  # stored, none lost

        receiver.hang = False
        receiver.release.set()
        restart = monitor(config, "once", "--all")
        _, err = restart.communicate(timeout=60)
        assert restart.returncode == 0, err
        assert "sending them again" in err
        rows = db.execute("SELECT state, count(*) FROM alerts GROUP BY state").fetchall()
        assert rows == [("sent", 3)]
        assert sorted(receiver.delivered) == sorted(HEADLINES)  # each story once
        repeats = len(receiver.arrived) - len(HEADLINES)
        assert repeats <= 1  # only the alert that was on the wire at the kill came twice
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
    finally:
        os.environ.pop("HOOK", None)
        receiver.release.set()
