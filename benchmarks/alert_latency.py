"""Alert latency of the daemon: from an item's appearance in a feed to its hand-over to an
immediate channel (a local webhook receiver), with the default tick and dispatch settings.

One topic-specific source with a short poll interval; after the source's silent first poll,
one defection story is published at a random moment every few seconds. Reported: each item's
latency, median/min/max, and the bound the topics issue sets (poll interval + 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from monitor.configuration.settings import load_settings
from monitor.service.daemon import run_daemon
from tests.server import Reply, TestServer

RESULTS = Path(__file__).parent / "results"
NAMES = ["Tehran", "Shiraz", "Tabriz", "Mashhad", "Rasht", "Yazd", "Kerman", "Ahvaz"]


WORDS = (
    "river", "market", "council", "winter", "harbour", "ledger", "orchard", "signal",
    "copper", "lantern", "meadow", "quarry", "beacon", "velvet", "anchor", "compass",
    "granite", "thistle", "falcon", "cedar", "marble", "saddle", "timber", "canyon",
)


def page(headline: str, now: datetime, seed: int) -> bytes:
    rng = random.Random(seed)  # every story its own text, or dedup would make them one
    body = "".join(f"<p>{headline}. Officials said the second secretary asked for asylum. "
                   f"{' '.join(rng.choice(WORDS) for _ in range(40))}.</p>" for _ in range(4))
    return (f"<html lang='en'><head><title>{headline}</title><meta property="
            f"'article:published_time' content='{now:%Y-%m-%dT%H:%M:%SZ}'></head><body>"
            f"<article><h1>{headline}</h1>{body}</article></body></html>").encode()


def feed(items: list[tuple[str, str, datetime]]) -> bytes:
    entries = "".join(f"<item><title>{h}</title><link>{u}</link><guid>{u}</guid>"
                      f"<pubDate>{format_datetime(t, usegmt=True)}</pubDate></item>"
                      for h, u, t in items)
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>"
            f"{entries}</channel></rss>").encode()


async def measure(count: int, interval: float) -> list[float]:
    arrivals: dict[str, float] = {}

    def receiver(h: BaseHTTPRequestHandler) -> None:
        headline = json.loads(h.body)["headline"]  # type: ignore[attr-defined]
        arrivals[headline] = time.monotonic()
        h.send_response(204)
        h.send_header("Content-Length", "0")
        h.end_headers()

    with TestServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.route("/hook", receiver)
        server.route("/feed", Reply(200, {"Content-Type": "application/rss+xml"}, feed([])))
        folder = Path(tmp)
        (folder / "topics.toml").write_bytes(
            (Path(__file__).parents[1] / "config" / "topics.toml").read_bytes())
        (folder / "sources.toml").write_text(
            f'[[source]]\nid = "wire"\nname = "Wire"\nkind = "feed"\nurl = '
            f'"{server.url("/feed")}"\nlanguage = "en"\noutlet = "Wire"\nscope = "topic"\n'
            f'interval = "{int(interval)}s"\n')
        (folder / "monitor.toml").write_text(
            '[polling]\nmin_interval = "1s"\njitter = 0\n[fetch]\nallow_networks = '
            '["127.0.0.0/8"]\n[[alerts.rule]]\nchannels = ["webhook"]\n[alerts.webhook]\n'
            'enabled = true\nurl_env = "LATENCY_HOOK"\n')
        os.environ["LATENCY_HOOK"] = server.url("/hook")
        settings = load_settings(folder / "monitor.toml")
        stop = asyncio.Event()
        daemon = asyncio.create_task(run_daemon(settings, stop))
        await asyncio.sleep(interval + 2)  # the first poll: a silent back-fill
        published: dict[str, float] = {}
        items: list[tuple[str, str, datetime]] = []
        rng = random.Random(5)
        for i in range(count):
            await asyncio.sleep(rng.uniform(0.5, interval))
            headline = f"Diplomat from {NAMES[i % len(NAMES)]} defects, case {i}"
            url = server.route(f"/a/{i}", Reply(200, {"Content-Type": "text/html"},
                                                page(headline, datetime.now(UTC), i)))
            items.insert(0, (headline, url, datetime.now(UTC)))
            server.route("/feed", Reply(200, {"Content-Type": "application/rss+xml"},
                                        feed(items)))
            published[headline] = time.monotonic()
        deadline = time.monotonic() + interval + 30
        while len(arrivals) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        stop.set()
        await daemon
    return [arrivals[h] - published[h] for h in published if h in arrivals]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--interval", type=float, default=10.0)
    args = parser.parse_args()
    latencies = asyncio.run(measure(args.count, args.interval))
    result = {
        "benchmark": "alert latency, feed appearance to webhook hand-over (s)",
        "poll_interval_s": args.interval, "bound_s": args.interval + 5,
        "received": f"{len(latencies)}/{args.count}",
        "median": round(statistics.median(latencies), 2) if latencies else None,
        "min": round(min(latencies), 2) if latencies else None,
        "max": round(max(latencies), 2) if latencies else None,
        "all": [round(x, 2) for x in latencies],
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "alert_latency.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
