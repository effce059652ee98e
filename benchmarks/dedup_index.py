"""Dedup index scaling: lookup + insert per item at 10k, 100k and 1M stored items.

The index is filled synthetically: each stored item gets a random MinHash signature (unrelated
texts share almost no band keys, as real unrelated articles do) and goes through the real
story assignment (`storage.stories.assign`: URL, exact-hash and band lookups, candidate
verification, story creation, signature and band writes). At each size we then time items one
by one, each in its own write transaction as the daemon does: half new stories, half near copies
of stored stories (one band in four disturbed). Reported per item: median, min, max (ms), the
ratio to the 10k figure, index storage per item (dbstat: signatures + lsh_bands) and the RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import struct
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.matching import dedup
from storage import Store, stories
from storage.records import Fingerprint, ItemContent, SourceRecord

NOW = datetime(2026, 1, 20, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results"
CONTENT = ItemContent(title="t", text=None, author=None, published_at=None, language="en",
                      status="ok")


def synthetic(rng: random.Random, base: list[int] | None = None) -> Fingerprint:
    if base is None:
        full = [rng.getrandbits(32) for _ in range(dedup.NUM_PERM)]
    else:  # a near copy: about a tenth of the values differ
        full = [v if rng.random() > 0.1 else rng.getrandbits(32) for v in base]
    lead = full[:dedup.LEAD_BANDS * dedup.LEAD_ROWS]
    return Fingerprint(
        text_hash=rng.getrandbits(63), word_count=400, shingle_count=1800,
        minhash=struct.pack(f"<{len(full)}I", *full),
        lead_minhash=struct.pack(f"<{len(lead)}I", *lead),
        bands=dedup.band_keys(full, lead), params=dedup.params_tag())


def add_items(store: Store, n: int, start: int) -> list[int]:
    with store._transaction() as conn:
        conn.executemany(
            "INSERT INTO items (id, source_id, entry_key, outlet, title, first_seen_at, status) "
            "VALUES (?, 'bench', ?, 'Bench', 't', '2026-01-20T00:00:00Z', 'ok')",
            [(i, f"k{i}") for i in range(start, start + n)])
    return list(range(start, start + n))


def fill(store: Store, rng: random.Random, upto: int, have: int,
         keep: list[list[int]]) -> int:
    matcher = dedup.Matcher()
    since = NOW - timedelta(days=14)
    while have < upto:
        batch = min(2000, upto - have)
        ids = add_items(store, batch, have + 1)
        with store._transaction() as conn:
            for item_id in ids:
                fp = synthetic(rng)
                stories.assign(conn, item_id, "Bench", CONTENT, (), fp, matcher, NOW, since)
                if len(keep) < 5000 and rng.random() < 0.01:
                    keep.append(list(struct.unpack(f"<{dedup.NUM_PERM}I", fp.minhash or b"")))
        have += batch
    return have


def measure(store: Store, rng: random.Random, have: int, keep: list[list[int]],
            samples: int) -> tuple[list[float], int, int]:
    matcher = dedup.Matcher()
    since = NOW - timedelta(days=14)
    ids = add_items(store, samples, have + 1)
    times, joined = [], 0
    for i, item_id in enumerate(ids):
        fp = synthetic(rng, rng.choice(keep) if i % 2 else None)
        started = time.perf_counter()
        with store._transaction() as conn:
            a = stories.assign(conn, item_id, "Bench", CONTENT, (), fp, matcher, NOW, since)
        times.append((time.perf_counter() - started) * 1000)
        joined += not a.new_story
    return times, have + samples, joined


def index_bytes(store: Store) -> int:
    rows = store._query("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
    wanted = ("signatures", "lsh_bands", "signatures_text_hash")
    return sum(r[1] for r in rows if r[0] in wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(1404)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        store.sync_sources([SourceRecord("bench", "Bench", "feed", "http://b.example/", "en",
                                         "Bench", "topic", 900.0)], NOW)
        have = 0
        keep: list[list[int]] = []
        for size in sizes:
            t0 = time.monotonic()
            have = fill(store, rng, size, have, keep)
            fill_s = time.monotonic() - t0
            times, have, joined = measure(store, rng, have, keep, args.samples)
            stored = store._query("SELECT count(*) FROM signatures")[0][0]
            results.append({
                "stored_items": stored, "fill_seconds": round(fill_s, 1),
                "per_item_ms": {"median": round(statistics.median(times), 3),
                                "min": round(min(times), 3), "max": round(max(times), 3)},
                "near_copies_joined": f"{joined}/{args.samples // 2}",
                "index_bytes_per_item": round(index_bytes(store) / stored),
                "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            })
            print(json.dumps(results[-1]), flush=True)
        store.close()
    base = results[0]["per_item_ms"]["median"]
    for r in results:
        r["ratio_to_first"] = round(r["per_item_ms"]["median"] / base, 2)
    summary = {"benchmark": "dedup lookup + insert per item", "params": dedup.params_tag(),
               "results": results}
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dedup_index.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
