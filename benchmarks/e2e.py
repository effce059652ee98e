"""End to end against what a user would otherwise run, and against the CPU floor.

The demo simulator publishes all its rounds (10 outlets, ~100 article pages) with a latency
injected into every response (0, 100 and 500 ms). In the same run:

* **feed-monitor**: one poll of every source (all set to topic scope, so every entry is
  downloaded, like the naive loop), fresh database each repeat; articles/s. Twice: with the
  default politeness (2 requests per host, 250 ms between request starts per host) and with no
  spacing (2 per host still).
* **naive loop**: for each feed `feedparser.parse(url)`, for each entry `trafilatura.fetch_url`
  (its SSRF protection turned off for loopback) + `trafilatura.extract` with the pipeline's
  options, one after another.
* **CPU floor**: `trafilatura.extract` alone with the same options over the same pages in two
  worker processes, no network, no storage.

Each figure is the median of the repeats with min and max; ratios are computed in the run.
A cProfile of one feed-monitor run at zero latency is saved (top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import multiprocessing
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def _config(folder: Path, sim: Any, spacing: str) -> Path:
    from monitor.demo.run import write_config

    config = write_config(folder, sim)
    sources = (folder / "sources.toml").read_text().replace('scope = "general"',
                                                           'scope = "topic"')
    (folder / "sources.toml").write_text(sources)
    text = config.read_text().replace("[alerts.console]\nenabled = true",
                                      "[alerts.console]\nenabled = false")
    text = text.replace('[fetch]\n', f'[fetch]\nhost_spacing = "{spacing}"\n')
    text = text.replace('channels = ["console"]', 'channels = []')
    text = text.replace('[[alerts.rule]]\nname = "demo"\ntopics = ["defections", "protests"]\n'
                        'channels = []\n', '')
    config.write_text(text)
    return config


def monitor_run(sim: Any, spacing: str, profile: bool = False) -> tuple[float, int, str]:
    from monitor.app import poll_sources, running
    from monitor.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(_config(Path(tmp), sim, spacing))

        async def go() -> tuple[float, int]:
            async with running(settings) as deps:
                t0 = time.monotonic()
                reports = await poll_sources(deps, deps.store.source_ids())
                return time.monotonic() - t0, sum(r.articles_fetched for r in reports)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        wall, articles = asyncio.run(go())
        top = ""
        if profiler:
            profiler.disable()
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(15)
            top = buf.getvalue()
    return wall, articles, top


def naive_run(sim: Any) -> tuple[float, int]:
    import feedparser
    import trafilatura
    from trafilatura.settings import use_config

    from monitor.extract import TRAFILATURA_OPTIONS

    config = use_config()
    config.set("DEFAULT", "SSRF_PROTECTION", "False")
    t0 = time.monotonic()
    articles = 0
    for outlet in sim.outlets:
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

    from monitor.extract import TRAFILATURA_OPTIONS

    return trafilatura.extract(args[1], url=args[0], **TRAFILATURA_OPTIONS) is not None


def floor_run(pages: list[tuple[str, str]]) -> float:
    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        pool.map(_extract, pages[:4])  # warm
        t0 = time.monotonic()
        pool.map(_extract, pages, chunksize=4)
        return len(pages) / (time.monotonic() - t0)


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2)}


def main() -> None:
    from monitor.decode import decode_document
    from monitor.demo.simulator import Simulator

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latencies", default="0,0.1,0.5")
    args = parser.parse_args()
    result: dict[str, Any] = {"latencies": {}}
    profile = ""
    for latency in [float(x) for x in args.latencies.split(",")]:
        with Simulator(slow=False, latency=latency) as sim:
            sim.set_round(4)
            polite, fast, naive = [], [], []
            counts = {}
            for _ in range(args.repeats):
                wall, n, top = monitor_run(sim, "250ms", profile=not profile and latency == 0)
                profile = profile or top
                polite.append(n / wall)
                wall, n, _ = monitor_run(sim, "0s")
                fast.append(n / wall)
                counts["monitor"] = n
                wall, n = naive_run(sim)
                naive.append(n / wall)
                counts["naive"] = n
            if latency == 0:
                pages = [(url, decode_document(body, "text/html")[0])
                         for url, body in sim.article_pages()]
                floor = [floor_run(pages) for _ in range(args.repeats)]
                result["cpu_floor_pages_per_s"] = summary(floor)
                result["monitor_fraction_of_floor"] = round(
                    statistics.median(fast) / statistics.median(floor), 2)
        result["latencies"][f"{int(latency * 1000)}ms"] = {
            "articles": counts,
            "monitor_polite_articles_per_s": summary(polite),
            "monitor_no_spacing_articles_per_s": summary(fast),
            "naive_articles_per_s": summary(naive),
            "ratio_polite_to_naive": round(statistics.median(polite) / statistics.median(naive),
                                           2),
            "ratio_no_spacing_to_naive": round(
                statistics.median(fast) / statistics.median(naive), 2),
        }
        print(latency, json.dumps(result["latencies"][f"{int(latency * 1000)}ms"]), flush=True)
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "e2e.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "e2e_profile.txt").write_text(profile)


if __name__ == "__main__":
    main()
