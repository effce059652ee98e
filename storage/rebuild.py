"""Rebuild the dedup index after its parameters changed (shingles, permutations, normaliser).

Every item with text gets a fresh signature; the band index is rebuilt from the members of
stories inside the window that it keeps (storage.stories: first, representative, newest); and
every copy that joined its story as a near-duplicate is checked again against the
representative and the members before it. A copy that no longer matches is
detached into a story of its own, and the detach is written to `story_events`. Story ids are
never renumbered and stories are never merged here. Work is done in batches, each its own
transaction, so the daemon can keep writing (it may miss a match against a story whose bands
are being rebuilt).

Resumable: the first transaction writes the `index_rebuild` row, every batch moves its
`last_item_id` in the same transaction as the batch's bands, and the last one deletes it. A
rebuild killed midway leaves that row; the next `rebuild` (at the next start) carries on from
there instead of leaving a partial index behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from storage import stories
from storage.records import (
    Candidate,
    Fingerprint,
    ItemContent,
    StoryMatcher,
    iso,
    parse_iso,
)

Fingerprinter = Callable[[str, str], Fingerprint]  # (outlet, text) -> fingerprint


@dataclass(frozen=True)
class RebuildReport:
    items: int
    indexed_stories: int
    detached: int


Writer = Callable[[], AbstractContextManager[sqlite3.Connection]]


def rebuild(write: Writer, conn: sqlite3.Connection,
            fingerprint: Fingerprinter, matcher: StoryMatcher, now: datetime, since: datetime,
            batch: int = 500, step: Callable[[int], None] | None = None) -> RebuildReport:
    items = indexed = detached = 0
    state = conn.execute("SELECT phase, last_item_id FROM index_rebuild").fetchone()
    if state is None:
        with write() as w:
            w.execute("DELETE FROM lsh_bands")
            w.execute("UPDATE stories SET indexed = (first_seen_at >= ?)", (iso(since),))
            w.execute("INSERT INTO index_rebuild (id, started_at, since, phase) "
                      "VALUES (1, ?, ?, 'signatures')", (iso(now), iso(since)))
    last = 0 if state is None else state["last_item_id"]
    while state is None or state["phase"] == "signatures":
        rows = conn.execute(
            "SELECT i.id, i.outlet, i.text, i.story_id, s.indexed = 1 AS in_window "
            "FROM items i JOIN stories s ON s.id = i.story_id WHERE i.id > ? "
            "AND i.text IS NOT NULL AND i.text != '' ORDER BY i.id LIMIT ?",
            (last, batch)).fetchall()
        if not rows:
            break
        with write() as w:
            for r in rows:
                fp = fingerprint(r["outlet"], r["text"])
                stories.save_signature(w, r["id"], r["story_id"], fp, now)
                if r["in_window"] and fp.minhash is not None \
                        and r["id"] in stories.kept_in_index(w, r["story_id"])[0]:
                    stories.index(w, r["id"], fp)
                    indexed += 1
            w.execute("UPDATE index_rebuild SET last_item_id = ?, items_done = items_done + ?",
                      (rows[-1]["id"], len(rows)))
        items += len(rows)
        last = rows[-1]["id"]
        if step is not None:
            step(len(rows))
    with write() as w:
        w.execute("UPDATE index_rebuild SET phase = 'copies'")
    copies = conn.execute(
        "SELECT i.id, i.story_id, s.representative_item_id AS rep FROM items i "
        "JOIN stories s ON s.id = i.story_id WHERE i.match_kind = 'near' "
        "AND i.id != s.representative_item_id ORDER BY i.id").fetchall()
    for i in range(0, len(copies), batch):
        with write() as w:
            for c in copies[i:i + batch]:
                if not _still_copy(w, matcher, c["id"], c["story_id"], c["rep"]):
                    _detach(w, c["id"], c["story_id"], now)
                    detached += 1
    with write() as w:  # re-checking copies is idempotent: a kill above just repeats it
        w.execute("DELETE FROM index_rebuild")
    return RebuildReport(items, indexed, detached)


@dataclass(frozen=True)
class RebuildProgress:
    """An interrupted rebuild: when it started, its phase and how far it got."""

    started_at: str
    phase: str
    last_item_id: int
    items_done: int


def pending(conn: sqlite3.Connection) -> RebuildProgress | None:
    """The interrupted rebuild, if any."""
    row = conn.execute("SELECT started_at, phase, last_item_id, items_done "
                       "FROM index_rebuild").fetchone()
    return RebuildProgress(*row) if row is not None else None


def _stored(conn: sqlite3.Connection, item_id: int) -> Fingerprint | None:
    row = conn.execute("SELECT g.*, p.params FROM signatures g JOIN dedup_params p "
                       "ON p.id = g.params_id WHERE g.item_id = ?", (item_id,)).fetchone()
    if row is None:
        return None
    return Fingerprint(row["text_hash"], row["word_count"], row["shingle_count"], row["minhash"],
                       row["lead_minhash"], (), row["params"])


def _still_copy(conn: sqlite3.Connection, matcher: StoryMatcher, item_id: int, story_id: int,
                rep_id: int) -> bool:
    """Still a copy of the representative, or of another member that joined before it."""
    item = _stored(conn, item_id)
    if item is None or item.minhash is None:
        return True  # nothing to judge with: leave it where it is
    candidates = []
    for r in conn.execute("SELECT i.id, i.text FROM items i WHERE i.story_id = ? AND i.id != ? "
                          "AND (i.id < ? OR i.id = ?)", (story_id, item_id, item_id, rep_id)):
        other = _stored(conn, r["id"])
        if other is not None and other.minhash is not None:
            candidates.append(Candidate(story_id, r["id"], other.word_count, other.shingle_count,
                                        other.minhash, other.lead_minhash, r["text"],
                                        r["id"] == rep_id))
    if not candidates:
        return True
    text = conn.execute("SELECT text FROM items WHERE id = ?", (item_id,)).fetchone()[0]
    return matcher.choose(item, candidates, text) is not None


def _detach(conn: sqlite3.Connection, item_id: int, story_id: int, now: datetime) -> None:
    row = conn.execute("SELECT title, outlet, language, agency, first_seen_at FROM items "
                       "WHERE id = ?", (item_id,)).fetchone()
    content = ItemContent(title=row["title"], text=None, author=None, published_at=None,
                          language=row["language"], status="ok", agency=row["agency"])
    seen = parse_iso(row["first_seen_at"]) or now
    new_story = stories.new_story(conn, item_id, row["outlet"], content, seen)
    conn.execute("UPDATE signatures SET story_id = ? WHERE item_id = ?", (new_story, item_id))
    conn.execute("INSERT INTO story_events (story_id, at, kind, item_id, other_story_id, detail) "
                 "VALUES (?, ?, 'detach', ?, ?, ?)",
                 (story_id, iso(now), item_id, new_story,
                  "no longer a near copy of the representative after rebuild-index"))
    stories.refresh_story(conn, story_id, now)
