"""Steady state with many sources: one full polling cycle over N sources, wall and CPU seconds.

A feed server runs in its own process on 50 loopback addresses (127.0.1.1 - 127.0.1.50), N/50
feeds each, 20 entries per feed. The monitor (this process plus its worker processes, whose CPU
is read from /proc) polls every source once per cycle, as the daemon's ticks would. Phases:

    304   the server answers conditional requests with 304
    same  the server ignores validators and sends the same body (not parsed again)
    known the body changes every cycle (a new lastBuildDate) but every entry is already known:
          parsed, looked up, nothing downloaded or written but the poll
    new   each feed has one new entry among its 20 (one article download + extraction each)

Entries of the first fill have no links (stored as skipped rows, nothing downloaded), so the
cycles measure polling, not a first import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.procs import cpu_seconds

RESULTS = Path(__file__).parent / "results"
HOSTS = [f"127.0.1.{i}" for i in range(1, 51)]
PORT = 18380


def _serve(per_host: int, mode: Any, cycle: Any) -> None:  # the server process
    def body(feed: int, new: int, stamp: int = 0) -> bytes:
        items = []
        for k in range(new, 0, -1):
            link = f"http://{HOSTS[feed % len(HOSTS)]}:{PORT}/a/{feed}/{k}"
            items.append(f"<item><title>Strike number {k} spreads in Tabriz ({feed})</title>"
                         f"<link>{link}</link><guid>{link}</guid></item>")
        for k in range(20 - len(items)):
            items.append(f"<item><title>Background {k} of feed {feed}</title>"
                         f"<guid isPermaLink='false'>bg-{feed}-{k}</guid>"
                         f"<description>Old entry {k}</description></item>")
        built = f"<lastBuildDate>cycle {stamp}</lastBuildDate>" if stamp else ""
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {feed}</title>"
                f"{built}{''.join(items[:20])}</channel></rss>").encode()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per response

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if parts[0] == "a":
                text = " ".join(f"Workers at plant {parts[1]} stopped work on day {parts[2]}, "
                                f"a union statement said, sentence {i}." for i in range(30))
                data = (f"<html><head><title>Strike {parts[2]}</title></head><body><article>"
                        f"<h1>Strike {parts[2]}</h1><p>{text}</p></article></body></html>"
                        ).encode()
                self._send(200, data, "text/html")
                return
            if parts[0] != "feed":
                self._send(404, b"", "text/plain")
                return
            feed = int(parts[1])
            new = cycle.value if mode.value == 2 else 0
            stamp = cycle.value if mode.value == 3 else 0
            etag = f'"{feed}-{new}"'
            if mode.value == 0 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(200, body(feed, new, stamp), "application/rss+xml",
                       etag if mode.value == 0 else None)

        def _send(self, status: int, data: bytes, ctype: str, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    servers = []
    for host in HOSTS:
        s = ThreadingHTTPServer((host, PORT), H)
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
        servers.append(s)
    threading.Event().wait()


def _worker_cpu(deps: Any) -> float:
    return sum(cpu_seconds(w.process.pid) for w in deps.pool._all)


def start_server(count: int, mode: int) -> tuple[Any, Any, Any]:
    """The feed server in its own process: (process, mode value, cycle value)."""
    ctx = multiprocessing.get_context("spawn")
    mode_value, cycle = ctx.Value("i", mode), ctx.Value("i", 0)
    server = ctx.Process(target=_serve, args=(count // len(HOSTS), mode_value, cycle),
                         daemon=True)
    server.start()
    time.sleep(1.5)
    return server, mode_value, cycle


def write_config(folder: Path, count: int) -> Path:
    """monitor.toml, sources.toml (`count` topic feeds over the hosts) and topics.toml."""
    (folder / "topics.toml").write_bytes(
        (Path(__file__).parents[1] / "config" / "topics.toml").read_bytes())
    (folder / "sources.toml").write_text("\n".join(
        f'[[source]]\nid = "s{i:04d}"\nname = "S{i}"\nkind = "feed"\nurl = '
        f'"http://{HOSTS[i % len(HOSTS)]}:{PORT}/feed/{i}"\nlanguage = "en"\n'
        f'outlet = "Outlet {i}"\nscope = "topic"\n' for i in range(count)))
    (folder / "monitor.toml").write_text('[fetch]\nallow_networks = ["127.0.0.0/8"]\n')
    return folder / "monitor.toml"


async def run(count: int, cycles: int) -> dict[str, Any]:
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    server, mode, cycle = start_server(count, 0)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(write_config(Path(tmp), count))
            async with running(settings) as deps:
                ids = deps.store.source_ids()
                await poll_sources(deps, ids)  # the first fill: skipped rows, no downloads
                for name, code in (("304", 0), ("same", 1), ("known", 3), ("new", 2)):
                    mode.value = code
                    cycle.value = 0  # in the "new" phase: one more linked entry per cycle
                    walls, cpus = [], []
                    for _ in range(cycles):
                        cycle.value += 1
                        cpu0 = time.process_time() + _worker_cpu(deps)
                        t0 = time.monotonic()
                        reports = await poll_sources(deps, ids)
                        walls.append(time.monotonic() - t0)
                        cpus.append(time.process_time() + _worker_cpu(deps) - cpu0)
                    outcomes: dict[str, int] = {}
                    for r in reports:
                        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
                    results[name] = {
                        "wall_s": {"median": round(statistics.median(walls), 2),
                                   "min": round(min(walls), 2), "max": round(max(walls), 2)},
                        "cpu_s": {"median": round(statistics.median(cpus), 2),
                                  "min": round(min(cpus), 2), "max": round(max(cpus), 2)},
                        "last_cycle_outcomes": outcomes,
                        "articles_last_cycle": sum(r.articles_fetched for r in reports),
                    }
                    print(name, json.dumps(results[name]), flush=True)
    finally:
        server.terminate()
    results["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    results = asyncio.run(run(args.sources, args.cycles))
    summary = {"benchmark": f"steady state, {args.sources} sources, one cycle",
               "settings": "shipped defaults (polling.concurrency=64, per_host_concurrency=2, "
                           "host_spacing=250ms), 50 hosts",
               "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
               **results}
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "steady_state.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
