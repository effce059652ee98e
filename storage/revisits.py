"""Revisits of alerted articles: what changed after the alert, and what was quietly deleted.

When a story first alerts, its triggering item is scheduled for revisits (`alerts.revisits`
offsets). A revisit that finds a new headline or text keeps the old one in `item_versions`
(reason ``revisit``); a 404, 410 or a redirect to a section page records the removal with time.
`refresh` is the one way an item's content is replaced after it was stored (revisits and
re-extraction alike).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage import outbox, stories
from storage.records import ItemRefresh, StoryMatcher, iso


@dataclass(frozen=True)
class Due:
    item_id: int
    source_id: str
    url: str
    title: str
    text: str | None
    revisits: int
    outlet: str = ""
    language: str | None = None
    failures: int = 0  # transient failures of the current revisit so far


def schedule_first(conn: sqlite3.Connection, item_id: int, at: datetime) -> None:
    conn.execute("UPDATE items SET next_revisit_at = ? WHERE id = ? AND revisits = 0 "
                 "AND next_revisit_at IS NULL AND removed_at IS NULL", (iso(at), item_id))


def due(conn: sqlite3.Connection, now: datetime, limit: int) -> list[Due]:
    rows = conn.execute(
        "SELECT id, source_id, url, title, text, revisits, outlet, language, revisit_failures "
        "FROM items WHERE next_revisit_at IS NOT NULL AND next_revisit_at <= ? "
        "AND url IS NOT NULL ORDER BY next_revisit_at LIMIT ?", (iso(now), limit)).fetchall()
    return [Due(*r) for r in rows]


def record(conn: sqlite3.Connection, item_id: int, now: datetime, next_at: datetime | None,
           *, removed: str | None = None, error: str | None = None,
           retry: bool = False) -> None:
    """One revisit's outcome: removed, the same or changed (a changed text is written by
    `refresh` in the same transaction), failed (`error` kept in `revisit_error`) or, with
    `retry`, a transient failure that does not use up the revisit: it is tried again at
    `next_at`."""
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


def refresh(conn: sqlite3.Connection, r: ItemRefresh, matcher: StoryMatcher | None,
            now: datetime) -> bool:
    """Replace an item's content (title, text, search columns, topics, signature) as one;
    True when the title or text changed (nothing is written otherwise)."""
    old = conn.execute("SELECT title, text, published_at, story_id FROM items WHERE id = ?",
                       (r.item_id,)).fetchone()
    if old is None or (old["title"] == r.title and old["text"] == r.text):
        return False
    if r.keep_version:
        conn.execute("INSERT INTO item_versions (item_id, title, text, published_at, "
                     "replaced_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
                     (r.item_id, old["title"], old["text"], old["published_at"], iso(now),
                      r.reason))
    conn.execute("UPDATE items SET title = ?, text = ?, word_count = ?, fetched_at = ?, "
                 "language = ?, agency = coalesce(?, agency) WHERE id = ?",
                 (r.title, r.text, len(r.text.split()), iso(now), r.language, r.agency,
                  r.item_id))
    conn.execute("DELETE FROM items_fts WHERE rowid = ?", (r.item_id,))
    conn.execute("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                 (r.item_id, r.search_title, r.search_text))
    outbox.write_topics(conn, r.item_id, r.topics)
    if r.fingerprint is not None and matcher is not None:
        stories.update_signature(conn, r.item_id, r.fingerprint, matcher, now)
    if old["story_id"] is not None:
        conn.execute("UPDATE stories SET headline = ? WHERE id = ? AND representative_item_id = ?",
                     (r.title, old["story_id"], r.item_id))
    return True
