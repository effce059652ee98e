"""Per-outlet boilerplate: paragraphs that recur across many of one outlet's pages.

Extraction removes most navigation, but outlets add their own fixed lines to every article
("Follow us on Telegram", a standard disclaimer). Dedup must ignore them, or two unrelated
articles from one outlet look alike. We count, per outlet, in how many items each normalised
paragraph hash occurred; a paragraph seen in `min_items` or more of the outlet's items is
boilerplate. Counts live in SQLite (`outlet_lines`) so they survive restarts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from storage.records import iso


def count_lines(conn: sqlite3.Connection, outlet: str, line_hashes: Iterable[int],
                now: datetime) -> None:
    conn.executemany(
        "INSERT INTO outlet_lines (outlet, line_hash, items, last_seen_at) VALUES (?, ?, 1, ?) "
        "ON CONFLICT (outlet, line_hash) DO UPDATE SET items = items + 1, "
        "last_seen_at = excluded.last_seen_at",
        [(outlet, h, iso(now)) for h in set(line_hashes)])


def frequent_lines(conn: sqlite3.Connection, outlet: str, line_hashes: Iterable[int],
                   min_items: int) -> set[int]:
    wanted = sorted(set(line_hashes))
    found: set[int] = set()
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in conn.execute(
            f"SELECT line_hash FROM outlet_lines WHERE outlet = ? AND items >= ? "
            f"AND line_hash IN ({marks})", [outlet, min_items, *chunk]))
    return found
