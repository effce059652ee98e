"""Related stories inside the write transaction: the same event in other words or in another
language, linked (``story_links``), never merged.

The first item of each new story that passed the topic stage keeps its features
(``item_features``); a new story is offered the first items of the other stories seen within the
link window, and the linker the monitor passes in decides. When a new story is linked to an
earlier one that alerted, the policy may roll it up into that story's alert ("now also
reported by ... in Persian, 1 h earlier") instead of alerting it as new.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from storage.records import (
    LinkCandidate,
    LinkDecision,
    RelatedFeatures,
    StoryLink,
    StoryLinker,
    iso,
    parse_iso,
)


def save_features(conn: sqlite3.Connection, item_id: int, story_id: int, f: RelatedFeatures,
                  now: datetime) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO item_features (item_id, story_id, language, anchors, terms, "
        "embedding, model, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (item_id, story_id, f.language, json.dumps(list(f.anchors), ensure_ascii=False),
         json.dumps(list(f.terms), ensure_ascii=False), f.embedding, f.model, iso(now)))


def candidates(conn: sqlite3.Connection, story_id: int, since: datetime) -> list[LinkCandidate]:
    rows = conn.execute(
        "SELECT f.*, i.outlet FROM item_features f JOIN items i ON i.id = f.item_id "
        "WHERE f.seen_at >= ? AND f.story_id != ? ORDER BY f.item_id",
        (iso(since), story_id)).fetchall()
    return [LinkCandidate(r["story_id"], r["item_id"], r["outlet"], r["seen_at"],
                          RelatedFeatures(r["language"], tuple(json.loads(r["anchors"])),
                                          tuple(json.loads(r["terms"])), r["embedding"],
                                          r["model"])) for r in rows]


def link(conn: sqlite3.Connection, story_id: int, item_id: int, features: RelatedFeatures,
         linker: StoryLinker, now: datetime, since: datetime) -> int | None:
    """Keep the new story's features, link it to the related stories the linker finds; returns
    the earliest of them (the one a roll-up goes to), or None."""
    save_features(conn, item_id, story_id, features, now)
    decisions = linker.link(features, candidates(conn, story_id, since))
    return write(conn, story_id, decisions, now)


def write(conn: sqlite3.Connection, story_id: int, decisions: list[LinkDecision],
          now: datetime) -> int | None:
    for d in decisions:
        conn.execute("INSERT OR IGNORE INTO story_links (story_id, other_story_id, kind, score, "
                     "evidence, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (story_id, d.other_story_id, d.kind, round(d.score, 4), d.evidence,
                      iso(now)))
    if not decisions:
        return None
    return min(d.other_story_id for d in decisions)


def alerted_channels(conn: sqlite3.Connection, story_id: int) -> tuple[str, ...]:
    return tuple(r[0] for r in conn.execute(
        "SELECT DISTINCT channel FROM alerts WHERE story_id = ? AND kind = 'story' "
        "ORDER BY channel", (story_id,)))


def rollup(conn: sqlite3.Connection, story_id: int, related_story: int, item_id: int,
           now: datetime) -> int:
    """Queue "now also reported by ..." on the channels where `story_id` alerted, once per
    related story; the payload says who, in which language, and how much earlier or later."""
    row = conn.execute(
        "SELECT i.outlet, i.language, coalesce(i.published_at, i.first_seen_at) AS at, "
        "(SELECT coalesce(f.published_at, f.first_seen_at) FROM stories s JOIN items f "
        " ON f.id = s.first_item_id WHERE s.id = ?) AS first_at, "
        "(SELECT kind FROM story_links WHERE story_id = ? AND other_story_id = ?) AS kind "
        "FROM items i WHERE i.id = ?", (story_id, related_story, story_id, item_id)).fetchone()
    at, first = parse_iso(row["at"]), parse_iso(row["first_at"])
    lead = (first - at).total_seconds() if at is not None and first is not None else 0.0
    payload = json.dumps({"related_story": related_story, "outlet": row["outlet"],
                          "language": row["language"], "earlier_s": round(lead),
                          "link": row["kind"]}, ensure_ascii=False)
    cur = conn.execute(
        "INSERT OR IGNORE INTO alerts (story_id, item_id, channel, kind, state, created_at, "
        "next_attempt_at, payload, digest) SELECT story_id, ?, channel, ?, 'pending', ?, ?, ?, "
        "digest FROM alerts WHERE story_id = ? AND kind = 'story'",
        (item_id, f"related:{related_story}", iso(now), iso(now), payload, story_id))
    return cur.rowcount


def links_of(conn: sqlite3.Connection, story_id: int) -> list[StoryLink]:
    """A story's links in both directions, earliest other story first."""
    rows = conn.execute(
        "SELECT l.kind, l.score, l.evidence, l.created_at, CASE WHEN l.story_id = :id "
        "THEN l.other_story_id ELSE l.story_id END AS other FROM story_links l "
        "WHERE l.story_id = :id OR l.other_story_id = :id", {"id": story_id}).fetchall()
    out = []
    for r in rows:
        s = conn.execute("SELECT headline, first_outlet, languages, first_seen_at FROM stories "
                         "WHERE id = ?", (r["other"],)).fetchone()
        out.append(StoryLink(story_id, r["other"], r["kind"], r["score"], r["evidence"],
                             r["created_at"], s["headline"] or "", s["first_outlet"] or "",
                             s["languages"] or "", s["first_seen_at"] or ""))
    return sorted(out, key=lambda link: (link.other_first_seen_at, link.other_story_id))
