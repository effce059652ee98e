"""The reader's pages at 100k items: story list, story page and search, over real HTTP.

A database is filled by plain SQL (sources, ~40k stories, 100k items in English and Persian,
topics on a third of them, one in twenty of those in the "possible" band only, the full-text
index), the reader is served by uvicorn on 127.0.0.1, and each page is fetched repeatedly with
one keep-alive client. The time is the whole request: routing, the read-only connection, the
queries, the template and the transfer. Target: a median of at most 100 ms for the story list,
a story page and a search.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from monitor.matching.text import search_form
from monitor.web.app import ReaderConfig
from storage import Store
from tests.webserver import serve_reader

RESULTS = Path(__file__).parent / "results"
TARGET_MS = 100.0
# topical words, each put into a few per cent of the texts, over a Zipf-like filler vocabulary
EN = ["iran", "tehran", "officials", "government", "protest", "strike", "workers", "bazaar",
      "police", "students", "rally", "embassy", "asylum", "diplomat", "envoy", "defected",
      "ministry", "court"]
FA = ["ایران", "تهران", "مقام", "دولت", "اعتراض", "اعتصاب", "کارگران", "بازار", "پلیس",
      "دانشجویان", "تجمع", "سفارت", "پناهندگی", "دیپلمات", "وزارت", "دادگاه", "می\u200cگوید"]
LETTERS = {"en": "abcdefghijklmnoprstuvwy", "fa": "ابپتجچحخدرزسشصطعغفقکگلمنوهی"}
TOPICS = ("defections", "protests")


def vocabulary(rng: random.Random, language: str, size: int = 4000) -> list[str]:
    letters = LETTERS[language]
    return ["".join(rng.choices(letters, k=rng.randint(3, 8))) for _ in range(size)]


def words(rng: random.Random, filler: list[str], weights: list[float], topical: list[str],
          k: int) -> str:
    out = rng.choices(filler, weights, k=k)
    for _ in range(rng.choice((0, 0, 1, 2))):
        out[rng.randrange(k)] = rng.choice(topical)
    if rng.random() < 0.4:  # the country's name: in ~40% of texts, the most common term
        out[rng.randrange(k)] = topical[0]
    return " ".join(out)


def _source_rows() -> list[tuple[object, ...]]:
    return [(f"src{i}", f"Outlet {i}", "feed", f"http://outlet{i}.example/feed",
             "fa" if i % 3 == 0 else "en", f"Outlet {i}", "topic", 900, "2026-01-01T00:00:00Z",
             "2026-01-01T00:00:00Z") for i in range(20)]


def _insert(conn: sqlite3.Connection, stories: list[tuple[object, ...]],
            items: list[tuple[object, ...]], topics: list[tuple[object, ...]],
            fts: list[tuple[object, ...]]) -> None:
    with conn:
        conn.executemany("INSERT INTO stories (id, headline, first_seen_at, last_seen_at, "
                         "first_item_id, first_outlet, representative_item_id, item_count, "
                         "outlet_count, languages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         stories)
        conn.executemany("INSERT INTO items (id, source_id, entry_key, url, outlet, title, "
                         "first_seen_at, language, text, status, story_id, match_kind, "
                         "similarity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?)", items)
        conn.executemany("INSERT INTO item_topics (item_id, topic, score, matched, state) "
                         "VALUES (?, ?, ?, ?, ?)", topics)
        conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)", fts)


def fill(db: Path, n: int, rng: random.Random, now: datetime) -> None:
    Store.open(db).close()  # the real schema, through the migrations
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("INSERT INTO sources (id, name, kind, url, language, outlet, scope, "
                         "interval_seconds, added_at, next_check_at) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _source_rows())
    fillers = {lang: vocabulary(rng, lang) for lang in ("en", "fa")}
    weights = [1 / (i + 1) for i in range(4000)]
    item_id = story_id = 0
    while item_id < n:
        batch_items: list[tuple[object, ...]] = []
        batch_stories: list[tuple[object, ...]] = []
        batch_topics: list[tuple[object, ...]] = []
        batch_fts: list[tuple[object, ...]] = []
        for _ in range(2000):
            story_id += 1
            fa = rng.random() < 0.35
            lang = "fa" if fa else "en"
            filler, topical = fillers[lang], FA if fa else EN
            at = now - timedelta(seconds=90 * (n - item_id) * rng.uniform(0.9, 1.1))
            headline = words(rng, filler, weights, topical, 9)
            text = words(rng, filler, weights, topical, 120)
            copies = rng.choice((1, 1, 2, 3, 5))
            first = item_id + 1
            for c in range(copies):
                item_id += 1
                src = (story_id + c) % 20
                seen = (at + timedelta(minutes=7 * c)).strftime("%Y-%m-%dT%H:%M:%SZ")
                batch_items.append((item_id, f"src{src}", f"k{item_id}",
                                    f"http://outlet{src}.example/a/{item_id}", f"Outlet {src}",
                                    headline, seen, "fa" if fa else "en", text, story_id,
                                    "first" if c == 0 else "near", 1.0 if c == 0 else 0.9))
                batch_fts.append((item_id, search_form(headline), search_form(text)))
                if story_id % 3 == 0:
                    batch_topics.append((item_id, TOPICS[story_id % 2], 6.0,
                                         '["@protest_words:strike*", "rally"]',
                                         "possible" if story_id % 60 == 0 else "match"))
            first_seen = (at).strftime("%Y-%m-%dT%H:%M:%SZ")
            batch_stories.append((story_id, headline, first_seen, first_seen, first, f"Outlet "
                                  f"{story_id % 20}", first, copies, copies, "fa" if fa else "en"))
        _insert(conn, batch_stories, batch_items, batch_topics, batch_fts)
    conn.execute("ANALYZE")
    conn.close()


def timed(client: httpx.Client, paths: list[str], repeats: int) -> dict[str, float]:
    client.get(paths[0])  # warm: first connection, template compilation
    times = []
    for n in range(repeats):
        t0 = time.perf_counter()
        r = client.get(paths[n % len(paths)])
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    rng = random.Random(18)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "web.db"
        t0 = time.monotonic()
        fill(db, args.items, rng, now)
        fill_s = time.monotonic() - t0
        conn = sqlite3.connect(db)
        stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
        wide = [r[0] for r in conn.execute("SELECT id FROM stories WHERE outlet_count = 5 "
                                           "ORDER BY random() LIMIT 10")]
        conn.close()
        pages = {
            "story_list": ["/"],
            "story_list_page_50_filtered": ["/?lang=fa&since=30d&page=50"],
            "story_list_topic": ["/?topic=protests"],
            "story_page": [f"/stories/{i}" for i in wide],
            "search_selective": ["/search?q=asylum+diplomat", "/search?q=پناهندگی+سفارت"],
            "search_common": ["/search?q=iran"],
            "trends": ["/trends"],
            "sources": ["/sources"],
        }
        with serve_reader(ReaderConfig(db, TOPICS)) as base, \
                httpx.Client(base_url=base, timeout=30) as client:
            timings = {name: timed(client, paths, args.repeats) for name, paths in pages.items()}
    asserted = ("story_list", "story_page", "search_selective")
    result = {"items": args.items, "stories": stories, "fill_seconds": round(fill_s, 1),
              "repeats": args.repeats, "target_median_ms": TARGET_MS, "pages": timings,
              "within_target": all(timings[k]["median_ms"] <= TARGET_MS for k in asserted)}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
