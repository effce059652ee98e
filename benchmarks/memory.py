"""Memory of the monitor over 10,000 articles, polled as the daemon polls.

The benchmark outlets (benchmarks/pages.py: 40 outlets, pages of real weight) publish 10 new
articles each per round; every round, every source is polled once with the shipped
configuration, until 10,000 articles have been downloaded, extracted, deduplicated and stored.
Memory is the PSS of the monitor's process, its forkserver and its workers (shared pages
counted once), sampled every 50 ms: the peak during the run, the value after the first round
(warm) and after the last, and the main process's RSS at the same moments.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.e2e import RESULTS, bench_config
from benchmarks.procs import Sampler, pss_mib, rss_mib
from benchmarks.remote import RemoteSimulator


def build(outlets: int, per_round: int, rounds: int) -> Any:
    from benchmarks.pages import bench_outlets, bench_pieces, heavy_article_html
    from monitor.demo.simulator import Simulator

    chosen = bench_outlets(outlets)
    return Simulator(bench_pieces(chosen, per_round, rounds), outlets=chosen, slow=False,
                     article_renderer=heavy_article_html)


async def run(sim: RemoteSimulator, target: int) -> dict[str, Any]:
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(bench_config(Path(tmp), sim))
        skip = frozenset({sim.pid()})
        done, rounds, trace = 0, 0, []
        started = time.monotonic()
        # each round's 400 pieces are dated over the 400 minutes before its `now`: rounds 8 h
        # apart keep every round newer than the last, so no piece drops out of a feed unseen
        first = datetime.now(UTC) - timedelta(hours=8 * (target // 400 + 1))
        with Sampler(skip) as sampler:
            async with running(settings) as deps:
                ids = deps.store.source_ids()
                while done < target:
                    rounds += 1
                    if not sim.set_round(rounds, first + timedelta(hours=8 * rounds)):
                        break  # nothing left to publish
                    reports = await poll_sources(deps, ids)
                    done += sum(r.articles_fetched for r in reports)
                    trace.append({"articles": done, "pss_mib": round(pss_mib(os.getpid(), skip),
                                                                     1),
                                  "main_rss_mib": round(rss_mib([os.getpid()]), 1)})
                    print(json.dumps(trace[-1]), flush=True)
                stored = deps.store._query("SELECT count(*) FROM items")[0][0]
    return {"articles": done, "items_stored": stored, "rounds": rounds,
            "seconds": round(time.monotonic() - started, 1),
            "peak_pss_mib": round(sampler.peak, 1), "after_first_round": trace[0],
            "after_last_round": trace[-1],
            "growth_first_to_last": round(trace[-1]["pss_mib"] / trace[0]["pss_mib"] - 1, 3),
            "trace": trace}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--outlets", type=int, default=40)
    parser.add_argument("--per-round", type=int, default=10)
    args = parser.parse_args()
    rounds = -(-args.articles // (args.outlets * args.per_round))
    with RemoteSimulator(functools.partial(build, args.outlets, args.per_round, rounds)) as sim:
        result = asyncio.run(run(sim, args.articles))
    summary = {"benchmark": f"memory over {args.articles} articles", **result}
    print(json.dumps({k: v for k, v in summary.items() if k != "trace"}, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
