"""The alert outbox: rows written in the transaction of the story that triggers them, sent later.

States: pending -> sending -> sent | failed (and sending -> pending again on a retry). A
dispatcher *claims* due rows (pending -> sending) and commits before it sends anything; after
the channel accepted the message it marks them sent. If the process dies between the send and
that mark, the rows are still `sending` at the next start and are put back to `pending`:
that is the one window in which an alert can be sent twice. Nothing is ever lost.

One alert per (story, channel, kind) is guaranteed by a unique index: a story alerts once on a
channel (`kind = 'story'`) and once per pickup threshold (`kind = 'pickup:5'`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta

from storage.records import AlertRequest, AlertRow, TopicHit, iso


def enqueue(conn: sqlite3.Connection, story_id: int, item_id: int, requests: Iterable[AlertRequest],
            now: datetime) -> int:
    """Queue a story's alert on each requested channel unless it already alerted there."""
    added = 0
    for r in requests:
        cur = conn.execute(
            "INSERT OR IGNORE INTO alerts (story_id, item_id, channel, kind, state, created_at, "
            "next_attempt_at, payload, digest) VALUES (?, ?, ?, 'story', 'pending', ?, ?, ?, ?)",
            (story_id, item_id, r.channel, iso(now), iso(r.due_at),
             json.dumps({"rule": r.rule}), int(r.digest)))
        added += cur.rowcount
    return added


def rollups(conn: sqlite3.Connection, story_id: int, thresholds: Iterable[int],
            now: datetime) -> int:
    """Queue "now carried by N outlets" (one per threshold the policy says the story has
    reached) on the channels where the story already alerted, once each."""
    added = 0
    for n in thresholds:
        cur = conn.execute(
            "INSERT OR IGNORE INTO alerts (story_id, item_id, channel, kind, state, created_at, "
            "next_attempt_at, payload, digest) SELECT story_id, NULL, channel, ?, 'pending', ?, "
            "?, ?, digest FROM alerts WHERE story_id = ? AND kind = 'story'",
            (f"pickup:{n}", iso(now), iso(now), json.dumps({"outlets": n}), story_id))
        added += cur.rowcount
    return added


def recover(conn: sqlite3.Connection) -> int:
    """At start-up: rows left `sending` by a crash go back to `pending` (may send twice)."""
    return conn.execute("UPDATE alerts SET state = 'pending' WHERE state = 'sending'").rowcount


def claim(conn: sqlite3.Connection, channel: str, now: datetime, limit: int = 200) -> list[int]:
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM alerts WHERE channel = ? AND state = 'pending' AND next_attempt_at <= ? "
        "ORDER BY id LIMIT ?", (channel, iso(now), limit))]
    conn.executemany("UPDATE alerts SET state = 'sending', attempts = attempts + 1 WHERE id = ?",
                     [(i,) for i in ids])
    return ids


def mark_sent(conn: sqlite3.Connection, ids: Iterable[int], now: datetime,
              digest: bool) -> None:
    conn.executemany("UPDATE alerts SET state = 'sent', sent_at = ?, digest = ?, "
                     "last_error = NULL WHERE id = ?", [(iso(now), int(digest), i) for i in ids])


def mark_retry(conn: sqlite3.Connection, ids: Iterable[int], error: str,
               next_at: datetime) -> None:
    conn.executemany("UPDATE alerts SET state = 'pending', last_error = ?, next_attempt_at = ? "
                     "WHERE id = ?", [(error, iso(next_at), i) for i in ids])


def mark_failed(conn: sqlite3.Connection, ids: Iterable[int], error: str) -> None:
    conn.executemany("UPDATE alerts SET state = 'failed', last_error = ? WHERE id = ?",
                     [(error, i) for i in ids])


def defer(conn: sqlite3.Connection, ids: Iterable[int], until: datetime) -> None:
    """Give claimed rows back, due later (a flood guard holding them for a digest)."""
    conn.executemany("UPDATE alerts SET state = 'pending', attempts = attempts - 1, "
                     "next_attempt_at = ?, digest = 1 WHERE id = ?",
                     [(iso(until), i) for i in ids])


def sent_since(conn: sqlite3.Connection, channel: str, since: datetime) -> int:
    return int(conn.execute("SELECT count(*) FROM alerts WHERE channel = ? AND state = 'sent' "
                            "AND sent_at >= ?", (channel, iso(since))).fetchone()[0])


def last_digest(conn: sqlite3.Connection, channel: str) -> str | None:
    row = conn.execute("SELECT max(sent_at) FROM alerts WHERE channel = ? AND state = 'sent' "
                       "AND digest = 1", (channel,)).fetchone()
    return str(row[0]) if row and row[0] else None


def rows(conn: sqlite3.Connection, ids: Iterable[int] | None = None, limit: int = 50,
         states: tuple[str, ...] = ()) -> list[AlertRow]:
    """Alert rows joined with what a message shows (story, representative item, topics)."""
    where: list[str] = []
    params: list[object] = []
    if ids is not None:
        id_list = list(ids)
        if not id_list:
            return []
        where.append(f"a.id IN ({','.join('?' * len(id_list))})")
        params += id_list
    if states:
        where.append(f"a.state IN ({','.join('?' * len(states))})")
        params += list(states)
    sql = (
        "SELECT a.*, coalesce(s.headline, json_extract(a.payload, '$.headline'), '') "
        "AS headline, coalesce(s.outlet_count, 0) AS outlet_count, s.agency, "
        "coalesce(s.first_outlet, '') AS first_outlet, "
        "coalesce(s.first_seen_at, a.created_at) AS first_seen_at, "
        "coalesce(i.url, r.url) AS url, coalesce(i.language, r.language) AS language, "
        "substr(coalesce(r.text, i.text, ''), 1, 2000) AS lede_text, "
        "coalesce(r.published_at, i.published_at) AS published_at, "
        "coalesce(a.item_id, s.representative_item_id) AS topic_item, "
        "(SELECT group_concat(outlet, '\x1f') FROM (SELECT DISTINCT outlet FROM items "
        " WHERE story_id = s.id ORDER BY first_seen_at)) AS outlet_list "
        "FROM alerts a LEFT JOIN stories s ON s.id = a.story_id "
        "LEFT JOIN items i ON i.id = a.item_id "
        "LEFT JOIN items r ON r.id = s.representative_item_id "
        + (f"WHERE {' AND '.join(where)} " if where else "")
        + "ORDER BY a.id DESC LIMIT ?")
    out = []
    for r in conn.execute(sql, [*params, limit]).fetchall():
        topics = tuple(
            TopicHit(t["topic"], t["score"], tuple(json.loads(t["matched"])), t["state"],
                     t["probability"], tuple(json.loads(t["evidence"])), t["reason"])
            for t in conn.execute("SELECT topic, score, matched, state, probability, evidence, "
                                  "reason FROM item_topics WHERE item_id = ? "
                                  "ORDER BY state = 'possible', score DESC", (r["topic_item"],)))
        out.append(AlertRow(
            id=r["id"], story_id=r["story_id"] or 0, item_id=r["item_id"], channel=r["channel"],
            kind=r["kind"], state=r["state"], attempts=r["attempts"], created_at=r["created_at"],
            next_attempt_at=r["next_attempt_at"], sent_at=r["sent_at"],
            last_error=r["last_error"], payload=r["payload"], digest=bool(r["digest"]),
            headline=r["headline"], url=r["url"],
            outlets=tuple((r["outlet_list"] or "").split("\x1f")) if r["outlet_list"] else (),
            outlet_count=r["outlet_count"], agency=r["agency"], first_outlet=r["first_outlet"],
            first_seen_at=r["first_seen_at"], language=r["language"], topics=topics,
            text=r["lede_text"] or "", published_at=r["published_at"]))
    return out


def write_topics(conn: sqlite3.Connection, item_id: int, hits: Iterable[TopicHit]) -> None:
    conn.execute("DELETE FROM item_topics WHERE item_id = ?", (item_id,))
    conn.executemany("INSERT INTO item_topics (item_id, topic, score, matched, state, probability, "
                     "evidence, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(item_id, h.topic, h.score, json.dumps(list(h.matched), ensure_ascii=False),
                       h.state, h.probability, json.dumps(list(h.evidence), ensure_ascii=False),
                       h.reason) for h in hits])


def next_slot(last: str | None, every: timedelta, now: datetime) -> datetime:
    """When a flood-guarded channel may send its next digest."""
    if last is None:
        return now
    from storage.records import parse_iso

    previous = parse_iso(last)
    return now if previous is None else max(now, previous + every)


def operator(conn: sqlite3.Connection, channels: Iterable[str], headline: str, key: str,
             now: datetime) -> int:
    """Queue a message about the service itself on each channel, once per `key`."""
    added = 0
    for channel in channels:
        kind = f"operator:{key}"
        if conn.execute("SELECT 1 FROM alerts WHERE channel = ? AND kind = ?",
                        (channel, kind)).fetchone():
            continue
        conn.execute("INSERT INTO alerts (story_id, item_id, channel, kind, state, created_at, "
                     "next_attempt_at, payload) VALUES (NULL, NULL, ?, ?, 'pending', ?, ?, ?)",
                     (channel, kind, iso(now), iso(now),
                      json.dumps({"headline": headline}, ensure_ascii=False)))
        added += 1
    return added
