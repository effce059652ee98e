"""Steady state with many sources: one full polling cycle over N sources, wall and CPU seconds.

A feed server runs in its own process(es) on H loopback addresses (127.0.1.1 - 127.0.1.50 by
default; benchmarks/scale.py uses 200), N/H feeds each, 20 entries per feed. The monitor (this
process plus its forkserver and worker processes, whose CPU is read from /proc, recycled
workers included) polls every source once per cycle, as the daemon's ticks would. Phases:

    304       the server answers conditional requests with 304
    same      the server ignores validators and sends the same body (not parsed again)
    known     the body changes every cycle (a new lastBuildDate) but every entry is already
              known: parsed, looked up, nothing downloaded or written but the poll
    new       each feed has one new entry among its 20 (one article download + extraction each)
    new_1pct  1 % of the feeds (a different 1 % each cycle) have one new entry; the others
              answer 304: the realistic steady state

Entries of the first fill have no links (stored as skipped rows, nothing downloaded), so the
cycles measure polling, not a first import. The server's own CPU is measured too: if it came
near one core per server process, the server would be what limits the cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.procs import cpu_seconds, tree_cpu_seconds

RESULTS = Path(__file__).parent / "results"
PORT = int(os.environ.get("BENCH_PORT", "18380"))  # another port for a second run at once
MODES = {"304": 0, "same": 1, "new": 2, "known": 3, "new_1pct": 4}


def addresses(count: int) -> list[str]:
    """`count` loopback addresses 127.0.x.y (Linux routes all of 127/8 to lo)."""
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]


def new_entries(mode: int, feed: int, cycle: int) -> int:
    """How many linked entries feed `feed` carries in cycle `cycle` of phase `mode`."""
    if mode == MODES["new"]:
        return cycle
    if mode == MODES["new_1pct"]:  # one more entry in the cycles c with c = feed (mod 100)
        first = feed % 100 or 100
        return (cycle - first) // 100 + 1 if cycle >= first else 0
    return 0


def _serve(hosts: list[str], links: list[str], mode: Any, cycle: Any) -> None:  # a server process
    def body(feed: int, new: int, stamp: int = 0) -> bytes:
        items = []
        for k in range(new, max(new - 20, 0), -1):
            link = f"http://{links[feed % len(links)]}:{PORT}/a/{feed}/{k}"
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
            feed, code = int(parts[1]), mode.value
            new = new_entries(code, feed, cycle.value)
            stamp = cycle.value if code == MODES["known"] else 0
            etag = f'"{feed}-{new}"' if code in (MODES["304"], MODES["new_1pct"]) else None
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(200, body(feed, new, stamp), "application/rss+xml", etag)

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

    for host in hosts:
        s = ThreadingHTTPServer((host, PORT), H)
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    parent = os.getppid()
    while os.getppid() == parent:  # a killed benchmark must not leave its servers behind
        time.sleep(1.0)


@dataclass
class FeedServers:
    """The feed server processes (the hosts dealt out among them) and the shared phase."""

    hosts: list[str]
    processes: list[Any] = field(default_factory=list)
    mode: Any = None
    cycle: Any = None

    def start(self, count: int = 1, mode: int = 0) -> FeedServers:
        with contextlib.suppress(OSError):  # an earlier run's servers would answer instead
            socket.create_connection((self.hosts[0], PORT), timeout=1.0).close()
            raise RuntimeError(f"{self.hosts[0]}:{PORT} is in use: another run's servers?")
        ctx = multiprocessing.get_context("spawn")
        self.mode, self.cycle = ctx.Value("i", mode), ctx.Value("i", 0)
        for k in range(count):
            p = ctx.Process(target=_serve, args=(self.hosts[k::count], self.hosts, self.mode,
                                                 self.cycle), daemon=True)
            p.start()
            self.processes.append(p)
        self._wait_ready()
        return self

    def _wait_ready(self, limit: float = 120.0) -> None:
        """Until every address accepts a connection (spawning is slow on a loaded machine)."""
        end = time.monotonic() + limit
        for host in self.hosts:
            while True:
                try:
                    socket.create_connection((host, PORT), timeout=1.0).close()
                    break
                except OSError:
                    if time.monotonic() > end:
                        raise
                    time.sleep(0.1)

    def pids(self) -> frozenset[int]:
        return frozenset(p.pid for p in self.processes)

    def cpu(self) -> list[float]:
        return [cpu_seconds(p.pid) for p in self.processes]

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()


def start_server(count: int, mode: int, hosts: int = 50) -> FeedServers:
    """One feed server process on `hosts` addresses for `count` sources."""
    return FeedServers(addresses(hosts)).start(1, mode)


def write_config(folder: Path, count: int, hosts: int = 50) -> Path:
    """monitor.toml, sources.toml (`count` topic feeds over the hosts) and topics.toml."""
    names = addresses(hosts)
    (folder / "topics.toml").write_bytes(
        (Path(__file__).parents[1] / "config" / "topics.toml").read_bytes())
    (folder / "sources.toml").write_text("\n".join(
        f'[[source]]\nid = "s{i:05d}"\nname = "S{i}"\nkind = "feed"\nurl = '
        f'"http://{names[i % hosts]}:{PORT}/feed/{i}"\nlanguage = "en"\n'
        f'outlet = "Outlet {i}"\nscope = "topic"\n' for i in range(count)))
    (folder / "monitor.toml").write_text('[fetch]\nallow_networks = ["127.0.0.0/8"]\n')
    return folder / "monitor.toml"


def mmm(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits)}


def db_bytes(deps: Any) -> int:
    """Pages in use (the WAL's included, free pages not): the database's logical size."""
    pages, free, size = (deps.store._query(f"PRAGMA {p}")[0][0]
                         for p in ("page_count", "freelist_count", "page_size"))
    return int((pages - free) * size)


async def phase(deps: Any, ids: list[str], servers: FeedServers, name: str, cycles: int,
                warmup: bool = False) -> dict[str, Any]:
    """`cycles` measured cycles of one phase (after one unmeasured cycle with `warmup`)."""
    from monitor.service.app import poll_sources

    servers.mode.value = MODES[name]
    servers.cycle.value = 0  # in the "new" phases: more linked entries as cycles go by
    skip = servers.pids()
    if warmup:  # validators and bodies of the previous phase would make the first cycle odd
        servers.cycle.value += 1
        await poll_sources(deps, ids)
    walls, cpus, mains, server_cpu, growth = [], [], [], [], []
    for _ in range(cycles):
        servers.cycle.value += 1
        cpu0, main0, srv0, db0 = (tree_cpu_seconds(os.getpid(), skip), time.process_time(),
                                  servers.cpu(), db_bytes(deps))
        t0 = time.monotonic()
        reports = await poll_sources(deps, ids)
        walls.append(time.monotonic() - t0)
        cpus.append(tree_cpu_seconds(os.getpid(), skip) - cpu0)
        mains.append(time.process_time() - main0)
        server_cpu.append([round(b - a, 2) for a, b in zip(srv0, servers.cpu(), strict=True)])
        growth.append(db_bytes(deps) - db0)
    outcomes: dict[str, int] = {}
    for r in reports:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    result = {"wall_s": mmm(walls), "cpu_s": mmm(cpus), "main_cpu_s": mmm(mains),
              "server_cpu_s_per_process": server_cpu, "db_growth_bytes": mmm(growth, 0),
              "last_cycle_outcomes": outcomes,
              "articles_last_cycle": sum(r.articles_fetched for r in reports)}
    print(name, json.dumps(result), flush=True)
    return result


async def run(count: int, cycles: int, *, hosts: int = 50, server_processes: int = 1,
              phases: tuple[str, ...] = ("304", "same", "known", "new"),
              warmup: bool = False, probe: Any = None) -> dict[str, Any]:
    """The phases over `count` sources; `probe(deps, servers)` is awaited at the end (scale)."""
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    servers = FeedServers(addresses(hosts)).start(server_processes)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(write_config(Path(tmp), count, hosts))
            async with running(settings) as deps:
                ids = deps.store.source_ids()
                t0 = time.monotonic()
                await poll_sources(deps, ids)  # the first fill: skipped rows, no downloads
                results["first_fill_wall_s"] = round(time.monotonic() - t0, 1)
                results["db_bytes_after_fill"] = db_bytes(deps)
                for name in phases:
                    results[name] = await phase(deps, ids, servers, name, cycles, warmup)
                if probe is not None:
                    results.update(await probe(deps, servers))
    finally:
        servers.stop()
    results["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    results = asyncio.run(run(args.sources, args.cycles))
    summary = {"benchmark": f"steady state, {args.sources} sources, one cycle",
               "settings": "shipped defaults (polling.concurrency=64, per_host_concurrency=2, "
                           "host_spacing=250ms), 50 hosts",
               "command": f"python -m benchmarks.steady_state --sources {args.sources} "
                          f"--cycles {args.cycles}",
               "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
               **results}
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "steady_state.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
