"""Search and export at 100k items.

A database is filled with synthetic items (English and Persian words drawn with a Zipf-like
law; "iran" in about 40% of items, selective terms in under 5%) through plain SQL, then:

* `monitor search`'s query (storage.queries.search: FTS5 MATCH, bm25 order, snippet, top 20)
  is timed for selective terms and for the most common one; median, min and max of repeats;
* `monitor export`'s stream (storage.queries.export) is read to the end while Python's peak
  allocation is traced: flat memory means the peak does not grow with the item count.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from monitor.commands.queries import fts_query
from storage import Store, queries

RESULTS = Path(__file__).parent / "results"
COMMON = ["iran", "said", "officials", "tehran", "government", "people", "city", "report"]
RARE = ["defector", "asylum", "bazaar", "strike", "اعتصاب", "پناهندگی", "embassy", "rial"]


def fill(store: Store, n: int, rng: random.Random) -> None:
    vocab = [f"w{i}" for i in range(20000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    with store._transaction() as conn:
        conn.execute("INSERT INTO sources (id, name, kind, url, language, outlet, scope, "
                     "interval_seconds, added_at, next_check_at) VALUES ('b', 'B', 'feed', "
                     "'http://b/', 'en', 'B', 'topic', 900, '2026-01-01', '2026-01-01')")
    for start in range(0, n, 5000):
        rows = []
        for i in range(start, min(n, start + 5000)):
            words = rng.choices(vocab, weights, k=250)
            if rng.random() < 0.4:
                words[rng.randrange(250)] = "iran"
            words += rng.sample(COMMON[1:], 3)
            if rng.random() < 0.03:
                words[rng.randrange(250)] = rng.choice(RARE)
            text = " ".join(words)
            rows.append((i + 1, f"k{i}", f"title {i} " + " ".join(words[:6]), text))
        with store._transaction() as conn:
            conn.executemany(
                "INSERT INTO items (id, source_id, entry_key, outlet, title, text, "
                "first_seen_at, status) VALUES (?, 'b', ?, 'B', ?, ?, '2026-01-02', 'ok')", rows)
            conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                             [(r[0], r[2], r[3]) for r in rows])


def timed(store: Store, query: str, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        queries.search(store._conn, fts_query(query), limit=20)
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1)}


def export_peak(store: Store) -> tuple[int, float]:
    tracemalloc.start()
    count = sum(1 for _ in queries.export(store._conn, since=None, topic=None))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak / 1_048_576


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "search.db")
        t0 = time.monotonic()
        fill(store, args.items // 10, rng)
        small_count, small_peak = export_peak(store)  # the same stream at a tenth of the size
        store.close()
        store = Store.open(Path(tmp) / "search2.db")
        fill(store, args.items, rng)
        fill_s = time.monotonic() - t0
        df = {w: store._query("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?",
                             (w,))[0][0] for w in ["iran", "defector", "asylum", "bazaar"]}
        result = {
            "items": args.items, "fill_seconds": round(fill_s, 1), "document_frequency": df,
            "selective": {q: timed(store, q, args.repeats)
                          for q in ("defector", "asylum", '"embassy"', "bazaar OR strike")},
            "most_common_iran": timed(store, "iran", args.repeats),
        }
        count, peak = export_peak(store)
        result["export"] = {"items": count, "python_peak_mib": round(peak, 2),
                            "items_at_one_tenth": small_count,
                            "python_peak_mib_at_one_tenth": round(small_peak, 2)}
        store.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
