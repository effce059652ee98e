"""End to end against what a user would otherwise run, and against the CPU floor.

The simulator serves N outlets (default 40, each on its own loopback address) with M new
articles each (default 10), as pages of real weight (benchmarks/pages.py), with a latency
injected into every response (0, 100 and 500 ms). In the same run:

* **feed-monitor**: one poll of every source with the shipped configuration (config/
  monitor.toml: politeness included, 2 requests per host and 250 ms between request starts per
  host), sources in topic scope so every entry is downloaded like the naive loop does; a fresh
  database each repeat; articles/s over the whole poll.
* **naive loop**: for each feed `feedparser.parse(url)`, for each entry `trafilatura.fetch_url`
  (its SSRF protection turned off for loopback) + `trafilatura.extract` with the pipeline's
  options, one after another. Sequential, so its rate does not depend on N: it runs over the
  first `--naive-outlets` outlets only (5 by default), which keeps the 500 ms case short.
* **CPU floor**: `trafilatura.extract` alone with the same options over the same pages in two
  worker processes, no network, no storage. It is measured before the first feed-monitor run
  and after each one; each run's throughput at zero latency is reported as a fraction of the
  mean of the two floors around it (the machine is shared, and its speed drifts by tens of
  per cent within minutes), then the median over the runs.
* **default floor**: the same with `trafilatura.extract`'s DEFAULT options (no metadata; it
  keeps comments, which on the heavy pages costs more than the pipeline's options), measured
  next to each CPU floor: the monitor's CPU per article (all its processes) and throughput are
  also given as ratios to it (`monitor_cpu_to_default_floor`, `..._fraction_of_default_floor`).

The monitor's CPU per article counts from the moment its store is open and its worker pool
started (`Sampler.rebase`): a daemon does that once, not once per poll, and on the demo's small
pages the start-up (the pool's workers forked, the topics context sent to each) was a third of
the per-article figure. It is reported apart, `startup_cpu_s` (main process and workers).

Also: the peak memory of the monitor (PSS of the main process, its forkserver and workers,
sampled from /proc once a second) during each run, and a pyinstrument profile of one more
feed-monitor run at zero latency (not counted in the figures).
`--pages demo` uses the demo's small pages instead (per-article overhead dominates there).
Each figure is the median of the repeats with min and max; ratios are computed in the run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.procs import Sampler, cpu_seconds

RESULTS = Path(__file__).parent / "results"
REPO = Path(__file__).resolve().parent.parent


def bench_config(folder: Path, sim: Any) -> Path:
    """The shipped monitor.toml (loopback allowed), one topic-scope source per outlet."""
    text = (REPO / "config" / "monitor.toml").read_text()
    text = text.replace('allow_networks = []', 'allow_networks = ["127.0.0.0/8"]')
    (folder / "monitor.toml").write_text(text)
    (folder / "sources.toml").write_text("".join(
        f'[[source]]\nid = "{o.id}"\nname = "{o.name}"\nkind = "feed"\n'
        f'url = "{sim.feed_url(o)}"\nlanguage = "{o.language}"\noutlet = "{o.name}"\n'
        f'scope = "topic"\n\n' for o in sim.outlets))
    shutil.copyfile(REPO / "config" / "topics.toml", folder / "topics.toml")
    return folder / "monitor.toml"


@dataclass
class Run:
    wall: float
    articles: int
    peak_pss_mib: float
    main_cpu: float  # the monitor's own process
    worker_cpu: float  # its worker processes (and their forkserver)
    outlet_cpu: float  # the simulator's process
    profile: str = ""
    startup_cpu: float = 0.0  # opening the store and starting the pool, before the poll


def monitor_run(sim: Any, profile: bool = False) -> Run:
    """One poll of every source, from a fresh database."""
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(bench_config(Path(tmp), sim))

        async def go() -> tuple[float, int]:
            async with running(settings) as deps:
                # a daemon opens its store and starts its workers once, not once per poll:
                # that start-up is counted apart (`startup_cpu`), the poll from here
                started.append((time.process_time(), sampler.rebase()))
                t0 = time.monotonic()
                reports = await poll_sources(deps, deps.store.source_ids())
                return time.monotonic() - t0, sum(r.articles_fetched for r in reports)

        top = ""
        started: list[tuple[float, float]] = []
        main0, outlets0 = time.process_time(), cpu_seconds(sim.pid())
        with Sampler(skip=frozenset({sim.pid()})) as sampler:
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.001)
                profiler.start()
                wall, articles = asyncio.run(go())
                profiler.stop()
                top = profiler.output_text(unicode=False, color=False, show_all=False)
            else:
                wall, articles = asyncio.run(go())
    (main_at_start, workers_at_start), = started
    return Run(wall, articles, sampler.peak, time.process_time() - main_at_start - sampler.own_cpu,
               sum(sampler.child_cpu.values()), cpu_seconds(sim.pid()) - outlets0, top,
               startup_cpu=main_at_start - main0 + workers_at_start)


def naive_run(sim: Any, outlets: int) -> tuple[float, int]:
    import feedparser
    import trafilatura
    from trafilatura.settings import use_config

    from monitor.parsing.extract import TRAFILATURA_OPTIONS

    config = use_config()
    config.set("DEFAULT", "SSRF_PROTECTION", "False")
    t0 = time.monotonic()
    articles = 0
    for outlet in sim.outlets[:outlets]:
        feed = feedparser.parse(sim.feed_url(outlet))
        for entry in feed.entries:
            link = entry.get("link")
            if not link:
                continue
            html = trafilatura.fetch_url(link, config=config)
            if html:
                trafilatura.extract(html, url=link, **TRAFILATURA_OPTIONS)
                articles += 1
    return time.monotonic() - t0, articles


def _extract(args: tuple[str, str]) -> bool:
    import trafilatura

    from monitor.parsing.extract import TRAFILATURA_OPTIONS

    return trafilatura.extract(args[1], url=args[0], **TRAFILATURA_OPTIONS) is not None


def _extract_default(args: tuple[str, str]) -> bool:
    import trafilatura

    return trafilatura.extract(args[1], url=args[0]) is not None


def floor_run(pages: list[tuple[str, str]], skip: frozenset[int],
              extract: Callable[[tuple[str, str]], bool] = _extract) -> tuple[float, float]:
    """(pages/s, CPU ms per page of the two extracting processes)."""
    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        pool.map(extract, pages[:4])  # warm
        with Sampler(skip) as sampler:
            t0 = time.monotonic()
            pool.map(extract, pages, chunksize=4)
            wall = time.monotonic() - t0
        return len(pages) / wall, sum(sampler.child_cpu.values()) / len(pages) * 1000


@dataclass
class Floors:
    """Both floors, each measured before the first monitor run and after each one."""

    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    default_rates: list[float] = field(default_factory=list)
    default_cpu_ms: list[float] = field(default_factory=list)

    def measure(self, pages: list[tuple[str, str]], skip: frozenset[int]) -> None:
        for rates, cpu_ms, extract in ((self.rates, self.cpu_ms, _extract),
                                       (self.default_rates, self.default_cpu_ms,
                                        _extract_default)):
            rate, cpu = floor_run(pages, skip, extract)
            rates.append(rate)
            cpu_ms.append(cpu)

    def figures(self, rates: list[float], cpu_ms: list[float]) -> dict[str, Any]:
        """The floors, and each monitor run (`rates`, `cpu_ms` per article, all processes)
        against the mean of the floors measured just before and after it."""
        def around(values: list[float]) -> list[float]:
            return [(before + after) / 2 for before, after in itertools.pairwise(values)]
        return {
            "cpu_floor_pages_per_s": summary(self.rates),
            "cpu_floor_cpu_ms_per_page": summary(self.cpu_ms),
            "monitor_fraction_of_floor": summary(
                [m / f for m, f in zip(rates, around(self.rates), strict=False)]),
            "default_floor_pages_per_s": summary(self.default_rates),
            "default_floor_cpu_ms_per_page": summary(self.default_cpu_ms),
            "monitor_fraction_of_default_floor": summary(
                [m / f for m, f in zip(rates, around(self.default_rates), strict=False)]),
            "monitor_cpu_ms_per_article": summary(cpu_ms),
            "monitor_cpu_to_default_floor": summary(
                [c / f for c, f in zip(cpu_ms, around(self.default_cpu_ms), strict=False)]),
        }


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2)}


def build_simulator(outlets_n: int, articles: int, pages: str, latency: float) -> Any:
    from benchmarks.pages import bench_outlets, bench_pieces, heavy_article_html
    from monitor.demo import render
    from monitor.demo.simulator import Simulator

    outlets = bench_outlets(outlets_n)
    renderer = heavy_article_html if pages == "heavy" else render.article_html
    return Simulator(bench_pieces(outlets, articles), outlets=outlets, slow=False,
                     latency=latency, article_renderer=renderer)


def make_simulator(args: argparse.Namespace, latency: float) -> Any:
    """The simulator in its own process (benchmarks/remote.py)."""
    from benchmarks.remote import RemoteSimulator

    return RemoteSimulator(functools.partial(build_simulator, args.outlets, args.articles,
                                             args.pages, latency))


def main() -> None:
    from monitor.fetching.decode import decode_document
    from monitor.workers import PRELOAD

    # The floor's pool would otherwise start this process's forkserver first, without the
    # monitor's preload, and every monitor worker would import and warm trafilatura itself.
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(PRELOAD))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latencies", default="0,0.1,0.5")
    parser.add_argument("--outlets", type=int, default=40)
    parser.add_argument("--articles", type=int, default=10, help="new articles per outlet")
    parser.add_argument("--naive-outlets", type=int, default=5)
    parser.add_argument("--pages", choices=("heavy", "demo"), default="heavy")
    parser.add_argument("--out", default="e2e", help="results name (benchmarks/results/X.json)")
    args = parser.parse_args()
    result: dict[str, Any] = {"outlets": args.outlets, "articles_per_outlet": args.articles,
                              "pages": args.pages, "latencies": {},
                              "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    profile = ""
    for latency in [float(x) for x in args.latencies.split(",")]:
        with make_simulator(args, latency) as sim:
            sim.set_round(1)
            fm, naive, peaks, startup = [], [], [], []
            cpu: dict[str, list[float]] = {}
            counts = {}
            floors = Floors()
            pages = [(url, decode_document(body, "text/html")[0])
                     for url, body in sim.article_pages()]
            skip = frozenset({sim.pid()})
            if latency == 0:  # the floors before the first run and after each: noise drifts
                floors.measure(pages, skip)
            for _ in range(args.repeats):
                run = monitor_run(sim)
                fm.append(run.articles / run.wall)
                peaks.append(run.peak_pss_mib)
                startup.append(run.startup_cpu)
                for name, value in (("main", run.main_cpu), ("workers", run.worker_cpu),
                                    ("outlets", run.outlet_cpu)):
                    cpu.setdefault(name, []).append(value / run.articles * 1000)
                counts["monitor"] = run.articles
                wall, n = naive_run(sim, args.naive_outlets)
                naive.append(n / wall)
                counts["naive"] = n
                if latency == 0:
                    floors.measure(pages, skip)
            if latency == 0:  # one more run, profiled (not counted: the profiler slows it)
                profile = monitor_run(sim, profile=True).profile
                result["page_bytes_median"] = int(statistics.median(len(b) for _, b in
                                                                    sim.article_pages()))
                result.update(floors.figures(
                    fm, [a + b for a, b in zip(cpu["main"], cpu["workers"], strict=True)]))
                result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        key = f"{int(latency * 1000)}ms"
        result["latencies"][key] = {
            "articles": counts,
            "monitor_articles_per_s": summary(fm),
            "naive_articles_per_s": summary(naive),
            "ratio_to_naive": round(statistics.median(fm) / statistics.median(naive), 2),
            "monitor_peak_pss_mib": summary(peaks),
            "cpu_ms_per_article": {name: summary(v) for name, v in cpu.items()},
            "startup_cpu_s": summary(startup),
        }
        print(key, json.dumps(result["latencies"][key]), flush=True)
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    if profile:
        (RESULTS / f"{args.out}_profile.txt").write_text(profile)


if __name__ == "__main__":
    main()
