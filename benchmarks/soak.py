"""Soak: poll continuously for a while and watch the resident memory of the monitor.

The steady-state feed server (benchmarks/steady_state.py) serves N sources in the "new" phase
(one new entry per feed per cycle, so articles are downloaded, extracted, deduplicated and
stored all the time). Every cycle the RSS of this process and of its worker processes is
sampled from /proc. Reported: RSS after the first cycles (warm) against the last, and the
spread, as a percentage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.procs import rss_mib
from benchmarks.steady_state import MODES, start_server, write_config

RESULTS = Path(__file__).parent / "results"


async def soak(count: int, minutes: float) -> dict[str, Any]:
    from monitor.configuration.settings import load_settings
    from monitor.service.app import maintain, poll_sources, running

    server = start_server(count, MODES["new"])  # articles all the time
    cycle = server.cycle
    samples: list[tuple[float, float]] = []
    cycles = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(write_config(Path(tmp), count))
            started = time.monotonic()
            async with running(settings) as deps:
                ids = deps.store.source_ids()
                while time.monotonic() - started < minutes * 60:
                    cycle.value += 1
                    await poll_sources(deps, ids)
                    cycles += 1
                    if cycles % 10 == 0:
                        maintain(deps)
                    pids = [os.getpid(), *(w.process.pid for w in deps.pool._all)]
                    samples.append((time.monotonic() - started, rss_mib(pids)))
    finally:
        server.stop()
    warm = [rss for t, rss in samples if t >= 60][:5] or [samples[0][1]]
    last = [rss for _, rss in samples[-5:]]
    base = statistics.median(warm)
    return {
        "minutes": minutes, "sources": count, "cycles": cycles,
        "articles": cycles * count,
        "rss_mib_warm_median": round(base, 1), "rss_mib_last_median": round(
            statistics.median(last), 1),
        "rss_mib_min": round(min(r for _, r in samples), 1),
        "rss_mib_max": round(max(r for _, r in samples), 1),
        "growth_pct": round((statistics.median(last) - base) / base * 100, 1),
        "samples": [(round(t), round(r, 1)) for t, r in samples[:: max(1, len(samples) // 30)]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    result = asyncio.run(soak(args.sources, args.minutes))
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
