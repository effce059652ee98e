"""Story assignment's cost per item in the main process, on the texts of the end-to-end benchmark.

`python -m benchmarks.e2e` measures the monitor's main-process CPU per article over a whole poll
(network, parsing of feeds, the store); this isolates the part that grew with exact
near-duplicate verification: `storage.stories.assign` with the monitor's `dedup.Matcher`, in a
real SQLite store, one write transaction per item as the daemon does. The items are the heavy
benchmark's pieces (benchmarks/pages.py: 40 outlets x 10 articles, corpus articles reused with
an outlet's own lede, so most items have several earlier near copies among the candidates).
Fingerprints are made first, untimed (in the daemon a worker makes them). Reported: CPU ms per
item (median, min, max over `--repeats` runs, each from a fresh store), how many joined a story.

    .venv/bin/python -m benchmarks.verify_cost [--repeats 5] [--outlets 40] [--articles 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.pages import bench_outlets, bench_pieces
from monitor.matching import dedup
from storage import Store, stories
from storage.records import ItemContent, SourceRecord

NOW = datetime(2026, 1, 20, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results"


def one_run(texts: list[str]) -> tuple[float, int]:
    """(CPU ms per item of the assignments, items that joined a story), from a fresh store."""
    fps = [dedup.fingerprint(t) for t in texts]
    matcher = dedup.Matcher()
    joined, cpu = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        store.sync_sources([SourceRecord("bench", "Bench", "feed", "http://b.example/", "en",
                                         "Bench", "topic", 900.0)], NOW)
        for i, (text, fp) in enumerate(zip(texts, fps, strict=True)):
            content = ItemContent(title="t", text=text, author=None, published_at=None,
                                  language="en", status="ok")
            started = time.process_time()
            with store._transaction() as conn:
                conn.execute("INSERT INTO items (id, source_id, entry_key, outlet, title, "
                             "first_seen_at, status, text) VALUES (?, 'bench', ?, 'Bench', 't', "
                             "'2026-01-20T00:00:00Z', 'ok', ?)", (i + 1, f"k{i}", text))
                a = stories.assign(conn, i + 1, "Bench", content, (), fp, matcher, NOW,
                                   NOW - timedelta(days=2))
            cpu += time.process_time() - started
            joined += not a.new_story
        store.close()
    return cpu * 1000 / len(texts), joined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--outlets", type=int, default=40)
    parser.add_argument("--articles", type=int, default=10)
    args = parser.parse_args()
    pieces = bench_pieces(bench_outlets(args.outlets), args.articles)
    texts = ["\n".join(p.paragraphs) for p in pieces]
    runs = [one_run(texts) for _ in range(args.repeats)]
    ms = [r[0] for r in runs]
    result = {"benchmark": "story assignment CPU per item (main process)", "items": len(texts),
              "joined": runs[0][1],
              "cpu_ms_per_item": {"median": round(statistics.median(ms), 3),
                                  "min": round(min(ms), 3), "max": round(max(ms), 3)}}
    print(json.dumps(result))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "verify_cost.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
