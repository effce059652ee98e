"""`make bench`: every benchmark, each in its own process, results in benchmarks/results/.

    extraction      worker-pool extraction throughput vs in-process, heavy pages (pages/s),
                    and CPU per page against trafilatura.extract with default options; again
                    without metadata (an entry that gives title, date, author), heavy and demo
    analysis_cost   text analysis (topics with the model) per article, heavy pages (ms)
    shingles        dedup precision/recall per shingle kind on the labelled set
    related         rewrites and related links (same event, fa<->en) per kind, cost per item
    dedup_index     dedup lookup + insert per item at growing index sizes
    verify_cost     story assignment's CPU per item (exact verification included), heavy pages
    alert_latency   feed appearance to channel hand-over, daemon defaults
    steady_state    1000 sources: a cycle of 304s, of unchanged bodies, of one new entry each
    scale           2,000 sources on 40 addresses: 304s, known entries, 1 % new; capacity
                    (BENCH_FULL=1: 10,000 sources on 200 addresses, 23 minutes at load 12-15)
    search          FTS queries and the export stream at 100k items
                    (BENCH_FULL=1 also: 1M items, built once into /tmp/feed-monitor-search,
                    about 10 minutes the first time, 2 minutes after)
    e2e             end to end vs a naive feedparser+trafilatura loop, and vs the CPU floor,
                    on pages of real weight (benchmarks/pages.py); profile of one run
    e2e_demo        the same on the demo's small pages (per-article overhead dominates)
    memory          PSS of the monitor over 10,000 articles
    web             the reader's story list, story page and search at 100k items (ms per page)
    summary         benchmarks/SUMMARY.md from all results
    (soak           `python -m benchmarks.soak --minutes 30`: RSS over continuous polling)

The whole run takes about 30 minutes, half of it filling the dedup index to 1M items;
`BENCH_QUICK=1 make bench` stops the dedup index at 100k; `BENCH_FULL=1 make bench` runs the
scale benchmark at 10,000 sources and search at 1M items as well (about 25 minutes more).
"""

from __future__ import annotations

import os
import subprocess
import sys

FULL = bool(os.environ.get("BENCH_FULL"))
STEPS = [
    ["benchmarks.extraction"],
    ["benchmarks.extraction", "--fields", "none", "--out", "extraction_heavy_none"],
    ["benchmarks.extraction", "--pages", "demo", "--fields", "none", "--out",
     "extraction_demo_none"],
    ["benchmarks.analysis_cost"],
    ["benchmarks.shingles"],
    ["benchmarks.related"],
    ["benchmarks.dedup_index", "--sizes",
     "10000,100000" if os.environ.get("BENCH_QUICK") else "10000,100000,1000000"],
    ["benchmarks.verify_cost"],
    ["benchmarks.alert_latency"],
    ["benchmarks.steady_state", "--sources", "1000", "--cycles", "3"],
    ["benchmarks.scale", *(["--sources", "10000", "--hosts", "200"] if FULL else
                           ["--sources", "2000", "--hosts", "40", "--out", "scale_2000"])],
    ["benchmarks.search", "--items", "100000"],
    *([["benchmarks.search", "--items", "1000000", "--skip-export", "--repeats", "9",
        "--keep", "/tmp/feed-monitor-search", "--out", "search_1m"]] if FULL else []),
    ["benchmarks.e2e"],
    ["benchmarks.e2e", "--pages", "demo", "--out", "e2e_demo"],
    ["benchmarks.memory"],
    ["benchmarks.web", "--items", "100000"],
    ["benchmarks.summary"],
]


def main() -> int:
    failed = 0
    for module, *args in STEPS:
        print(f"== {module} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, "-m", module, *args], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
