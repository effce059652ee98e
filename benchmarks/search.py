"""Search and export at 100k items (`--items 1000000` for the 1M run).

A database is filled with synthetic items (English and Persian words drawn with a Zipf-like
law; text lengths drawn log-normally around 210 words, the median of the labelled development
set, 10 % under ~75 and 10 % over ~580 words; "iran" in about 40 % of items, selective terms in
under 1 %) through plain SQL in big transactions, then:

* `monitor search`'s query (storage.queries.search: FTS5 MATCH, bm25 order, snippet, top 20)
  is timed for selective terms and for the most common one; median, min and max of repeats;
* the whole `monitor search` command in this process (monitor.commands.queries.search: a
  read-only Store opened, 4 x limit hits, their texts, snippets in the published text, one
  row per story, the table printed to /dev/null), the same terms;
* the query bound (storage.queries.SEARCH_SECONDS, 5 s, a constant, with MAX_QUERY_TERMS and
  MAX_QUERY_CHARS): pathological queries (a prefix matching the whole vocabulary, a wide OR of
  common words) are stopped by SQLite's progress handler; how long each call takes to raise,
  and how fast an over-long query is refused;
* `monitor export`'s stream (storage.queries.export) is read to the end while Python's peak
  allocation is traced: flat memory means the peak does not grow with the item count.

`--keep DIR` builds the database into DIR once and reuses it on the next run (the 1M fill takes
minutes); without it everything lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from monitor.commands import queries as query_commands
from monitor.commands.queries import fts_query
from monitor.configuration.settings import load_settings
from storage import Store, queries
from storage.queries import BadQuery

RESULTS = Path(__file__).parent / "results"
COMMON = ["iran", "said", "officials", "tehran", "government", "people", "city", "report"]
RARE = ["defector", "asylum", "bazaar", "strike", "اعتصاب", "پناهندگی", "embassy", "rial"]
SELECTIVE = ("defector", "asylum", '"embassy"', "bazaar OR strike")
PATHOLOGICAL = {"prefix_w*": "w*",
                "or_32_common": " OR ".join(f"w{i}" for i in range(32))}
BATCH = 20_000


def _word_pool(rng: random.Random, size: int) -> list[str]:
    """`size` words drawn once from a 20,000-word Zipf-like vocabulary; items are slices of it."""
    vocab = [f"w{i}" for i in range(20000)]
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
    return rng.choices(vocab, cum_weights=cum, k=size)


def _item_words(rng: random.Random, pool: list[str]) -> list[str]:
    length = max(20, min(2000, int(math.exp(rng.gauss(math.log(210), 0.8)))))
    start = rng.randrange(len(pool) - length)
    words = pool[start:start + length]
    if rng.random() < 0.4:
        words[rng.randrange(length)] = "iran"
    words += rng.sample(COMMON[1:], 3)
    if rng.random() < 0.03:
        words[rng.randrange(length)] = rng.choice(RARE)
    return words


def fill(store: Store, n: int, rng: random.Random) -> None:
    pool = _word_pool(rng, 1_000_000)
    with store._transaction() as conn:
        conn.execute("INSERT INTO sources (id, name, kind, url, language, outlet, scope, "
                     "interval_seconds, added_at, next_check_at) VALUES ('b', 'B', 'feed', "
                     "'http://b/', 'en', 'B', 'topic', 900, '2026-01-01', '2026-01-01')")
    for start in range(0, n, BATCH):
        rows = []
        for i in range(start, min(n, start + BATCH)):
            words = _item_words(rng, pool)
            rows.append((i + 1, f"k{i}", f"title {i} " + " ".join(words[:6]), " ".join(words)))
        with store._transaction() as conn:
            conn.executemany(
                "INSERT INTO items (id, source_id, entry_key, outlet, title, text, "
                "first_seen_at, status) VALUES (?, 'b', ?, 'B', ?, ?, '2026-01-02', 'ok')", rows)
            conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                             [(r[0], r[2], r[3]) for r in rows])


def _mmm(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1)}


def timed(store: Store, query: str, repeats: int) -> dict[str, float]:
    """storage.queries.search, top 20, as the old figures were measured."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        queries.search(store._conn, fts_query(query), limit=20)
        times.append((time.perf_counter() - t0) * 1000)
    return _mmm(times)


def every_match_ranked(store: Store, repeats: int) -> dict[str, float]:
    """The commonest term with no ranking window (every match ranked): the cost the window
    saves, measured in the same run."""
    window, queries.RANK_WINDOW = queries.RANK_WINDOW, 10**12
    try:
        return timed(store, "iran", max(3, repeats // 3))
    finally:
        queries.RANK_WINDOW = window


def command_timed(config: Path, query: str, repeats: int) -> dict[str, float]:
    """The `monitor search QUERY` command in this process, output to /dev/null."""
    settings = load_settings(config)
    times = []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for _ in range(repeats):
            t0 = time.perf_counter()
            query_commands.search(settings, query, limit=20, topic=None, source=None,
                                  since=None, lang=None, as_json=False)
            times.append((time.perf_counter() - t0) * 1000)
    return _mmm(times)


def bound(store: Store, repeats: int) -> dict[str, Any]:
    """Seconds from the call to the "search stopped" error, per pathological query."""
    out: dict[str, Any] = {"search_seconds": queries.SEARCH_SECONDS}
    for name, query in PATHOLOGICAL.items():
        times, stopped = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            try:
                queries.search(store._conn, fts_query(query), limit=20)
            except BadQuery:
                stopped += 1
            times.append(time.perf_counter() - t0)
        out[name] = {"median_s": round(statistics.median(times), 3),
                     "min_s": round(min(times), 3), "max_s": round(max(times), 3),
                     "stopped": f"{stopped}/{repeats}"}
    huge = " OR ".join(f"w{i}" for i in range(5000))
    t0 = time.perf_counter()
    try:
        queries.search(store._conn, fts_query(huge), limit=20)
        refused = False
    except BadQuery:
        refused = True
    out["or_5000_terms_refused"] = {"refused": refused,
                                    "ms": round((time.perf_counter() - t0) * 1000, 2)}
    return out


def export_peak(store: Store) -> tuple[int, float]:
    tracemalloc.start()
    count = sum(1 for _ in queries.export(store._conn, since=None, topic=None))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak / 1_048_576


def write_config(folder: Path, db: Path) -> Path:
    """monitor.toml over `db`, with the one source the fill inserted and the shipped topics."""
    (folder / "topics.toml").write_bytes(
        (Path(__file__).parents[1] / "config" / "topics.toml").read_bytes())
    (folder / "sources.toml").write_text(
        '[[source]]\nid = "b"\nname = "B"\nkind = "feed"\nurl = "http://b/"\n'
        'language = "en"\noutlet = "B"\nscope = "topic"\n')
    (folder / "monitor.toml").write_text(f'[database]\npath = "{db}"\n')
    return folder / "monitor.toml"


def built(folder: Path, items: int, rng: random.Random) -> tuple[Store, float]:
    """The database of `items` items in `folder`, filled now or reused from an earlier run."""
    path = folder / f"search-{items}.db"
    done = folder / f"search-{items}.done"
    if not done.exists():
        path.unlink(missing_ok=True)
        store = Store.open(path)
        t0 = time.monotonic()
        fill(store, items, rng)
        store.checkpoint()
        done.write_text(f"{time.monotonic() - t0:.1f}\n")
        store.close()
    return Store.open(path), float(done.read_text())


def measure(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    small_count = small_peak = None
    if not args.skip_export:
        small, _ = built(folder, args.items // 10, rng)  # the same stream at a tenth
        small_count, small_peak = export_peak(small)
        small.close()
    store, fill_s = built(folder, args.items, rng)
    df = {w: store._query("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?",
                         (w,))[0][0] for w in ["iran", "defector", "asylum", "bazaar"]}
    config = write_config(folder, store.path)
    result: dict[str, Any] = {
        "items": args.items, "fill_seconds": fill_s, "document_frequency": df,
        "rank_window": queries.RANK_WINDOW,
        "database_mib": round(store.path.stat().st_size / 1_048_576),
        "selective": {q: timed(store, q, args.repeats) for q in SELECTIVE},
        "most_common_iran": timed(store, "iran", args.repeats),
        "most_common_iran_every_match_ranked": every_match_ranked(store, args.repeats),
        "command": {q: command_timed(config, q, args.repeats) for q in (*SELECTIVE, "iran")},
        "bound": bound(store, args.bound_repeats),
        "loadavg": os.getloadavg(),
    }
    if small_count is not None:
        count, peak = export_peak(store)
        result["export"] = {"items": count, "python_peak_mib": round(peak, 2),
                            "items_at_one_tenth": small_count,
                            "python_peak_mib_at_one_tenth": round(small_peak or 0, 2)}
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--bound-repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the databases here")
    parser.add_argument("--skip-export", action="store_true",
                        help="leave out the export stream (and the fill of a tenth for it)")
    parser.add_argument("--out", default="search", help="results/OUT.json")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = measure(args.keep, args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = measure(Path(tmp), args)
    result["command_line"] = f"python -m benchmarks.search --items {args.items}" + (
        " --skip-export" if args.skip_export else "")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
