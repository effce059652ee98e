"""Revisits of alerted articles: what changed after the alert, and what was quietly deleted.

When a story first alerts, its triggering item is scheduled for revisits (`alerts.revisits`
offsets). A revisit that finds a new headline or text keeps the old one in `item_versions`
(reason ``revisit``); a 404, 410 or a redirect to a section page records the removal with time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.records import iso


@dataclass(frozen=True)
class Due:
    item_id: int
    source_id: str
    url: str
    title: str
    text: str | None
    revisits: int
    failures: int = 0  # transient failures of the current revisit so far


def schedule_first(conn: sqlite3.Connection, item_id: int, at: datetime) -> None:
    conn.execute("UPDATE items SET next_revisit_at = ? WHERE id = ? AND revisits = 0 "
                 "AND next_revisit_at IS NULL AND removed_at IS NULL", (iso(at), item_id))


def due(conn: sqlite3.Connection, now: datetime, limit: int) -> list[Due]:
    rows = conn.execute(
        "SELECT id, source_id, url, title, text, revisits, revisit_failures FROM items "
        "WHERE next_revisit_at IS NOT NULL AND next_revisit_at <= ? AND url IS NOT NULL "
        "ORDER BY next_revisit_at LIMIT ?", (iso(now), limit)).fetchall()
    return [Due(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def record(conn: sqlite3.Connection, item_id: int, now: datetime, next_at: datetime | None,
           *, removed: str | None = None, title: str | None = None,
           text: str | None = None, search_title: str = "", search_text: str = "",
           error: str | None = None, retry: bool = False) -> None:
    """One revisit's outcome: removed, changed (old version kept), the same, failed (`error`
    kept in `revisit_error`) or, with `retry`, a transient failure that does not use up the
    revisit: it is tried again at `next_at`."""
    if retry:
        conn.execute("UPDATE items SET revisit_failures = revisit_failures + 1, "
                     "revisit_error = ?, next_revisit_at = ? WHERE id = ?",
                     (error, iso(next_at) if next_at else None, item_id))
        return
    conn.execute("UPDATE items SET revisits = revisits + 1, next_revisit_at = ?, "
                 "revisit_failures = 0, revisit_error = ? WHERE id = ?",
                 (iso(next_at) if next_at else None, error, item_id))
    if removed is not None:
        conn.execute("UPDATE items SET removed_at = ?, removed_detail = ?, next_revisit_at = NULL "
                     "WHERE id = ?", (iso(now), removed, item_id))
        return
    if title is None or text is None:
        return
    old = conn.execute("SELECT title, text, published_at FROM items WHERE id = ?",
                       (item_id,)).fetchone()
    if old["title"] == title and old["text"] == text:
        return
    conn.execute("INSERT INTO item_versions (item_id, title, text, published_at, replaced_at, "
                 "reason) VALUES (?, ?, ?, ?, ?, 'revisit')",
                 (item_id, old["title"], old["text"], old["published_at"], iso(now)))
    conn.execute("UPDATE items SET title = ?, text = ?, word_count = ?, fetched_at = ? "
                 "WHERE id = ?", (title, text, len(text.split()), iso(now), item_id))
    conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
    conn.execute("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                 (item_id, search_title, search_text))


def replace_text(conn: sqlite3.Connection, item_id: int, text: str, search_text: str,
                 title: str, search_title: str) -> bool:
    """Re-extraction from stored HTML: refresh text and search columns; True if it changed."""
    old = conn.execute("SELECT text FROM items WHERE id = ?", (item_id,)).fetchone()
    if old is None or old[0] == text:
        return False
    conn.execute("UPDATE items SET text = ?, word_count = ? WHERE id = ?",
                 (text, len(text.split()), item_id))
    conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
    conn.execute("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                 (item_id, search_title, search_text))
    return True
