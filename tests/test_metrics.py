"""The Prometheus endpoint of `monitor run`: the real daemon, a real store, scraped over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.configuration.settings import MetricsSettings
from monitor.errors import ConfigError
from monitor.service.metrics import Metrics, _listen
from tests.conftest import REPO, MakeSettings, source_toml
from tests.server import Reply, TestServer

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
PARAGRAPH = ("Workers at the steel plant in Isfahan stopped work on Monday, a union statement "
             "said, and gathered outside the managing office to ask for unpaid wages. ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(make_settings: MakeSettings, server: TestServer, port: int) -> Path:
    article = server.url("/a/1")
    feed = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item>"
            f"<title>Strike at a steel plant</title><link>{article}</link>"
            f"<guid isPermaLink='false'>g1</guid><description>Workers stopped.</description>"
            f"</item></channel></rss>").encode()
    server.route("/good", Reply(200, RSS, feed))
    server.route("/a/1", Reply(200, HTML, (
        f"<html><head><title>Strike</title></head><body><article><h1>Strike</h1>"
        f"<p>{PARAGRAPH * 4}</p><p>{PARAGRAPH * 3}</p></article></body></html>").encode()))
    server.route("/bad", Reply(500, {"Content-Type": "text/plain"}, b"down"))
    sources = source_toml("good", server.url("/good")) + source_toml("bad", server.url("/bad"))
    settings = make_settings(sources, extra=f"[metrics]\nenabled = true\nport = {port}\n\n"
                                           f"[health]\nfailing_after = 1\n")
    text = settings.config_path.read_text().replace('interval = "5m"',
                                                    'interval = "5m"\ntick = "200ms"')
    settings.config_path.write_text(text)
    return settings.config_path


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _scrape_until(port: int, done: object, seconds: float = 60) -> dict[
        tuple[str, tuple[tuple[str, str], ...]], float]:
    deadline = time.monotonic() + seconds
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    while time.monotonic() < deadline:
        try:
            samples = _samples(port)
        except httpx.TransportError:
            samples = {}
        if samples and done(samples):  # type: ignore[operator]
            return samples
        time.sleep(0.2)
    return samples


def test_the_daemon_serves_its_metrics_on_loopback(server: TestServer,
                                                   make_settings: MakeSettings) -> None:
    port = _free_port()
    config = _config(make_settings, server, port)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        samples = _scrape_until(port, lambda s: s.get(
            ("feed_monitor_polls_total", (("outcome", "new"),))) == 1 and s.get(
            ("feed_monitor_sources", (("state", "failing"),))) == 1)
        with pytest.raises(httpx.TransportError):  # bound to 127.0.0.1, not all of loopback
            httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert samples.get(("feed_monitor_polls_total", (("outcome", "new"),))) == 1, err
    assert samples[("feed_monitor_polls_total", (("outcome", "error"),))] >= 1
    assert samples[("feed_monitor_polls_total", (("outcome", "not_modified"),))] == 0
    assert samples[("feed_monitor_articles_fetched_total", ())] == 1
    assert samples[("feed_monitor_new_items_total", ())] == 1
    assert samples[("feed_monitor_extraction_seconds_count", (("task", "article"),))] == 1
    assert samples[("feed_monitor_extraction_seconds_count", (("task", "parse_feed"),))] >= 1
    assert samples[("feed_monitor_sources", (("state", "failing"),))] == 1
    assert samples[("feed_monitor_sources", (("state", "silent"),))] == 0
    assert samples[("feed_monitor_alerts", (("state", "pending"),))] == 0
    assert samples[("feed_monitor_alerts", (("state", "failed"),))] == 0
    assert samples[("feed_monitor_oldest_pending_alert_age_seconds", ())] == 0
    assert "metrics on http://127.0.0.1:" in err


def test_a_port_in_use_is_a_clear_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"metrics: cannot listen on 127.0.0.1:{port}"):
            _listen(MetricsSettings(True, "127.0.0.1", port), Metrics())


def test_metrics_are_off_and_on_loopback_by_default(make_settings: MakeSettings) -> None:
    settings = make_settings()
    assert settings.metrics == MetricsSettings(enabled=False, host="127.0.0.1", port=9108)
