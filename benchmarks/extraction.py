"""Extraction throughput of the worker pool on article pages of real weight (the e2e
benchmark's, benchmarks/pages.py; `--pages demo` for the demo's small pages).

Baseline: the same extraction run in this process, one page after another, in the same run.
Measured: the forkserver worker pool with 1 and with `--workers` processes, every page submitted
at once, as the pipeline does. Each configuration is repeated; medians with min and max are
reported, plus the ratio to the baseline, so a noisy machine shifts both sides alike.
`--fields` says what the extraction asks of trafilatura's metadata: all of title, author and
date (the default, what a feed entry lacking all three costs) or `none` (an entry that gives
them all: the common case). Also in this process: `trafilatura.extract` with its default
options (no metadata), the floor the issue-19 target is stated against, and the CPU ms per
page of both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from monitor.demo.simulator import Simulator
from monitor.fetching.decode import decode_document
from monitor.parsing.extract import PAGE_FIELDS, extract_article
from monitor.workers import WorkerPool

RESULTS = Path(__file__).parent / "results"


def article_pages(kind: str) -> list[tuple[str, str]]:
    if kind == "demo":
        sim = Simulator(slow=False)
        sim.set_round(4)
    else:
        from benchmarks.e2e import build_simulator

        sim = build_simulator(20, 10, "heavy", 0.0)
        sim.set_round(1)
    pages = []
    for url, body in sim.article_pages():
        pages.append((url, decode_document(body, "text/html; charset=utf-8")[0]))
    return pages


def baseline(pages: list[tuple[str, str]], fields: tuple[str, ...],
             extract: Callable[[str, str], object] | None = None) -> tuple[float, float]:
    """(pages/s, CPU ms per page) of `extract_article` (or `extract`) in this process."""
    one = extract or (lambda html, url: extract_article(html, url, fields))
    started, cpu = time.perf_counter(), time.process_time()
    for url, html in pages:
        one(html, url)
    return (len(pages) / (time.perf_counter() - started),
            (time.process_time() - cpu) / len(pages) * 1000)


def default_floor(html: str, url: str) -> object:
    import trafilatura

    return trafilatura.extract(html, url=url)


async def pooled(pages: list[tuple[str, str]], workers: int, repeats: int,
                 fields: tuple[str, ...]) -> list[float]:
    pool = WorkerPool(workers, recycle_after=10_000)
    await pool.start()
    try:
        await asyncio.gather(*(pool.run("extract", h, u, fields, timeout=60)
                               for u, h in pages[:workers]))
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            await asyncio.gather(*(pool.run("extract", h, u, fields, timeout=60)
                                   for u, h in pages))
            rates.append(len(pages) / (time.perf_counter() - started))
        return rates
    finally:
        await pool.close()


def summary(rates: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(rates), 1), "min": round(min(rates), 1),
            "max": round(max(rates), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", choices=("heavy", "demo"), default="heavy")
    parser.add_argument("--fields", choices=("all", "none"), default="all",
                        help="what the extraction asks of trafilatura's metadata")
    parser.add_argument("--out", default="extraction", help="results name (results/X.json)")
    args = parser.parse_args()
    fields = PAGE_FIELDS if args.fields == "all" else ()
    pages = article_pages(args.pages)
    load_before = os.getloadavg()
    extract_article(pages[0][1], pages[0][0])  # warm imports
    default_floor(pages[0][1], pages[0][0])
    base, floor = [], []
    for _ in range(args.repeats):  # alternately: the machine's speed drifts
        base.append(baseline(pages, fields))
        floor.append(baseline(pages, fields, default_floor))
    one = asyncio.run(pooled(pages, 1, args.repeats, fields))
    many = asyncio.run(pooled(pages, args.workers, args.repeats, fields))
    result = {
        "benchmark": f"extraction throughput, {args.pages} article pages (pages/s)",
        "page_kind": args.pages, "metadata_fields": list(fields),
        "pages": len(pages), "repeats": args.repeats, "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "in_process_baseline": summary([rate for rate, _ in base]),
        "in_process_cpu_ms_per_page": summary([cpu for _, cpu in base]),
        "default_floor_pages_per_s": summary([rate for rate, _ in floor]),
        "default_floor_cpu_ms_per_page": summary([cpu for _, cpu in floor]),
        "ratio_cpu_to_default_floor": round(statistics.median(
            [b / f for (_, b), (_, f) in zip(base, floor, strict=True)]), 2),
        "pool_1_worker": summary(one),
        f"pool_{args.workers}_workers": summary(many),
        "ratio_pool_1_to_baseline": round(
            statistics.median(one) / statistics.median([rate for rate, _ in base]), 2),
        f"ratio_pool_{args.workers}_to_baseline": round(
            statistics.median(many) / statistics.median([rate for rate, _ in base]), 2),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
