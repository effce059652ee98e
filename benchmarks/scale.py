"""Scale: 10,000 sources on 200 loopback addresses, politeness on with the shipped per-host
settings (per_host_concurrency=2, host_spacing=250ms, polling.concurrency=64).

The phases, cycles and servers of benchmarks/steady_state.py, at a larger size, each phase after
one unmeasured warm-up cycle:

    304       every source answers 304
    known     every source answers 200 with a changed body whose entries are all known
    new_1pct  1 % of the sources have one new article (downloaded and extracted), 99 % 304

Per cycle: wall, CPU of all the monitor's processes (main + forkserver + workers, recycled ones
included) and of the main process alone, the feed servers' own CPU (they run in their own
processes: `--servers`), and the database's growth. Also the peak PSS of the monitor's
processes (sampled once a second), the main process's peak RSS, the cost of the daemon's
due-sources query at this size, and, derived from the measured figures, the database after a
simulated week (672 cycles at a 15-minute interval, extrapolated from the growth per new_1pct
cycle) and the largest source count one process sustains at a 15-minute interval on 2 cores.
`--profile` adds a CPU profile (cProfile, process time) of one more 304 cycle of the main
process (results/scale_profile.txt).

    python -m benchmarks.scale               # 10,000 sources (23 minutes at load 12-15)
    python -m benchmarks.scale --sources 2000 --hosts 40 --out scale_2000   # make bench, ~5 min
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.procs import Sampler
from benchmarks.steady_state import MODES, RESULTS, FeedServers, mmm, run

INTERVAL_S = 900.0  # the shipped polling.interval
CORES = 2
SPACING_S = 0.25  # the shipped fetch.host_spacing
TARGETS = {"cpu_s_304": 15.0, "rss_mib": 300.0, "polls_per_hour": 50_000}


async def _probe(deps: Any, servers: FeedServers, profile: bool) -> dict[str, Any]:
    """The due-sources query at this size; optionally a profile of one more 304 cycle."""
    from monitor.service.app import poll_sources

    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        deps.store.due_sources(datetime.now(UTC), limit=128)
        times.append((time.perf_counter() - t0) * 1000)
    out: dict[str, Any] = {"due_sources_ms": mmm(times)}
    if profile:  # CPU time per function (cProfile on process_time), main process
        import cProfile
        import io
        import pstats

        servers.mode.value = MODES["304"]
        ids = deps.store.source_ids()
        await poll_sources(deps, ids)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        await poll_sources(deps, ids)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(40)
        (RESULTS / "scale_profile.txt").write_text(text.getvalue())
    return out


def capacity(r: dict[str, Any], sources: int, hosts: int) -> dict[str, Any]:
    """What the measured cycle costs say about one process at a 15-minute interval."""
    mix = r["new_1pct"]
    per_source = {"cpu_ms": 1000 * mix["cpu_s"]["median"] / sources,
                  "main_cpu_ms": 1000 * mix["main_cpu_s"]["median"] / sources,
                  "wall_ms": 1000 * mix["wall_s"]["median"] / sources}
    limits = {  # sources per 15-minute interval each resource allows
        "main process (one core: asyncio loop + SQLite writes)":
            INTERVAL_S / (per_source["main_cpu_ms"] / 1000),
        "2 cores (main + workers)": CORES * INTERVAL_S / (per_source["cpu_ms"] / 1000),
        f"politeness ({SPACING_S:g} s between requests to one host, {hosts} hosts)":
            hosts * INTERVAL_S / SPACING_S,
        "the daemon's tick (at most polling.concurrency=64 starts per 2 s tick)":
            64 / 2.0 * INTERVAL_S,
    }
    limiting = min(limits, key=lambda k: limits[k])
    week_cycles = int(7 * 24 * 3600 / INTERVAL_S)
    growth = mix["db_growth_bytes"]["median"]
    return {
        "per_source_per_cycle": {k: round(v, 3) for k, v in per_source.items()},
        "sources_sustained_by": {k: int(v) for k, v in limits.items()},
        "largest_source_count": int(limits[limiting]), "limited_by": limiting,
        "polls_per_hour": int(limits[limiting] * 3600 / INTERVAL_S),
        "politeness_floor_of_this_cycle_s": round(sources / hosts * SPACING_S, 1),
        "database": {
            "after_first_fill_mib": round(r["db_bytes_start"] / 2**20, 1),
            "growth_per_cycle_mib": round(growth / 2**20, 2),
            "growth_per_day_mib": round(growth * 96 / 2**20),
            "after_simulated_week_mib": round((r["db_bytes_start"] + growth * week_cycles)
                                              / 2**20),
            "method": f"extrapolated: median growth of a measured new_1pct cycle x "
                      f"{week_cycles} cycles (15-minute interval), nothing pruned (the fetch "
                      f"log and raw HTML are kept 30 days)",
        },
    }


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "cpu_s_per_304_cycle": [r["304"]["cpu_s"]["median"], TARGETS["cpu_s_304"],
                                r["304"]["cpu_s"]["median"] <= TARGETS["cpu_s_304"]],
        "peak_pss_mib": [r["peak_pss_mib"], TARGETS["rss_mib"],
                         r["peak_pss_mib"] <= TARGETS["rss_mib"]],
        "main_peak_rss_mib": [r["max_rss_mib"], TARGETS["rss_mib"],
                              r["max_rss_mib"] <= TARGETS["rss_mib"]],
        "polls_per_hour": [r["capacity"]["polls_per_hour"], TARGETS["polls_per_hour"],
                           r["capacity"]["polls_per_hour"] >= TARGETS["polls_per_hour"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--servers", type=int, default=2, help="feed server processes")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--phases", default="304,known,new_1pct")
    parser.add_argument("--out", default="scale", help="results/OUT.json")
    args = parser.parse_args()
    load0 = os.getloadavg()
    started = time.monotonic()

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}

        async def probe(deps: Any, servers: FeedServers) -> dict[str, Any]:
            return await _probe(deps, servers, args.profile)

        with Sampler() as sampler:
            out = await run(args.sources, args.cycles, hosts=args.hosts,
                            server_processes=args.servers,
                            phases=tuple(args.phases.split(",")), warmup=True, probe=probe)
        out["peak_pss_mib"] = round(sampler.peak)
        return out

    r = asyncio.run(go())
    r["db_bytes_start"] = r.pop("db_bytes_after_fill")
    r["capacity"] = capacity(r, args.sources, args.hosts)
    summary = {
        "benchmark": f"scale: {args.sources} sources on {args.hosts} loopback addresses",
        "command": f"python -m benchmarks.scale --sources {args.sources} --hosts {args.hosts} "
                   f"--servers {args.servers} --cycles {args.cycles}",
        "settings": "shipped defaults (polling.concurrency=64, fetch.per_host_concurrency=2, "
                    "fetch.host_spacing=250ms, extraction.workers=2)",
        "cpus": os.cpu_count(), "loadavg_before": load0, "loadavg_after": os.getloadavg(),
        "run_minutes": round((time.monotonic() - started) / 60, 1),
        **r, "targets": verdict(r),
    }
    summary["server_cpu_share"] = {
        p: round(statistics.median(sum(c) for c in r[p]["server_cpu_s_per_process"])
                 / r[p]["wall_s"]["median"] / args.servers, 2)
        for p in ("304", "known", "new_1pct") if p in r}
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
