"""Read-only queries behind `monitor search`, `stories`, `show`, `export` and `stats`.

All of them read through the normal connection; none takes the write lock, so they run while
the daemon writes. Search goes through `items_fts`, whose columns hold *normalised* text: the
caller normalises the query the same way (monitor.matching.text.search_form).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any, TypeVar

from storage.errors import NotFound, StorageError
from storage.query_records import (
    DayCount,
    ExportRow,
    OutletCount,
    SearchHit,
    Sighting,
    Stats,
    StoryDetail,
    StoryListing,
    TopicCount,
)

MAX_QUERY_TERMS = 64
MAX_QUERY_CHARS = 2000
SEARCH_SECONDS = 5.0
RANK_WINDOW = 20_000  # a query matching more items is ranked among its newest this many
_R = TypeVar("_R")


def _record(kind: Callable[..., _R], row: sqlite3.Row, **more: Any) -> _R:
    """A record from a row, by column name (a column the record lacks is a TypeError)."""
    return kind(**dict(zip(row.keys(), row, strict=True)), **more)


class BadQuery(StorageError):
    """The full-text query is not valid FTS5 syntax."""


def _filters(topic: str | None, source: str | None, since: str | None,
             language: str | None, alias: str = "i") -> tuple[str, list[Any]]:
    where, params = [], []
    if topic:
        where.append(f"EXISTS (SELECT 1 FROM item_topics t WHERE t.item_id = {alias}.id "
                     f"AND t.topic = ? AND t.state = 'match')")
        params.append(topic)
    if source:
        where.append(f"{alias}.source_id = ?")
        params.append(source)
    if since:
        where.append(f"{alias}.first_seen_at >= ?")
        params.append(since)
    if language:
        where.append(f"{alias}.language = ?")
        params.append(language)
    return (" AND " + " AND ".join(where)) if where else "", params


def search(conn: sqlite3.Connection, match: str, *, limit: int = 20, topic: str | None = None,
           source: str | None = None, since: str | None = None,
           language: str | None = None, seconds: float = SEARCH_SECONDS) -> list[SearchHit]:
    """Full-text search, bounded: at most `MAX_QUERY_TERMS` terms, and stopped (SQLite's
    progress handler) after `seconds`, with a message saying so.

    Ranked on rowids alone first, then the page's rows read with their snippets: computing
    snippets and reading items in the ranking query did it for every match (4 s for a term in
    400,000 of 1M items). A query without filters that matches more than `RANK_WINDOW` items
    is ranked among its newest `RANK_WINDOW` matches (item ids grow with time)."""
    terms = len(match.split())
    if len(match) > MAX_QUERY_CHARS or terms > MAX_QUERY_TERMS:
        raise BadQuery(f"query too large ({terms} terms, {len(match)} characters): at most "
                       f"{MAX_QUERY_TERMS} terms and {MAX_QUERY_CHARS} characters; narrow it "
                       f"or run several searches")
    extra, params = _filters(topic, source, since, language)
    join = " JOIN items i ON i.id = items_fts.rowid" if extra else ""
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        floor = 0 if extra else _rank_floor(conn, match)
        ranked = conn.execute(
            f"SELECT items_fts.rowid, bm25(items_fts) AS rank FROM items_fts{join} "
            f"WHERE items_fts MATCH ? AND items_fts.rowid >= ?{extra} ORDER BY rank LIMIT ?",
            [match, floor, *params, limit]).fetchall()
        return _hits(conn, match, [(r[0], r[1]) for r in ranked])
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise BadQuery(f"search stopped after {seconds:g}s: narrow it (fewer terms, "
                           f"--since, --source, --topic)") from None
        if "locked" in str(exc) or "busy" in str(exc):
            raise
        raise BadQuery(f"not a valid search query: {exc}") from None
    finally:
        conn.set_progress_handler(None, 0)


def _rank_floor(conn: sqlite3.Connection, match: str) -> int:
    """The lowest item id among the newest `RANK_WINDOW` matches; 0 when there are fewer."""
    row = conn.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ? "
                       "ORDER BY rowid DESC LIMIT 1 OFFSET ?", (match, RANK_WINDOW - 1)).fetchone()
    return int(row[0]) if row else 0


def _hits(conn: sqlite3.Connection, match: str,
          ranked: list[tuple[int, float]]) -> list[SearchHit]:
    """The ranked items with their fields and snippets, in rank order."""
    if not ranked:
        return []
    rows = {r["id"]: r for r in conn.execute(
        "SELECT i.id, i.story_id, i.first_seen_at, i.outlet, i.language, i.title, i.url, "
        "snippet(items_fts, 1, '[', ']', ' … ', 16) AS snippet, i.source_id "
        "FROM items_fts JOIN items i ON i.id = items_fts.rowid WHERE items_fts MATCH ? "
        f"AND items_fts.rowid IN ({','.join('?' * len(ranked))})",
        [match, *(item_id for item_id, _ in ranked)])}
    return [_record(SearchHit, rows[item_id], rank=rank) for item_id, rank in ranked
            if item_id in rows]


def stories(conn: sqlite3.Connection, *, since: str | None, topic: str | None,
            limit: int) -> list[StoryListing]:
    where, params = [], []
    if since:
        where.append("s.first_seen_at >= ?")
        params.append(since)
    if topic:
        where.append("EXISTS (SELECT 1 FROM items i JOIN item_topics t ON t.item_id = i.id "
                     "WHERE i.story_id = s.id AND t.topic = ? AND t.state = 'match')")
        params.append(topic)
    sql = (
        "SELECT s.id, s.first_seen_at, s.first_outlet, s.outlet_count, s.item_count, s.agency, "
        "s.headline, (SELECT group_concat(DISTINCT t.topic) FROM items i JOIN item_topics t "
        "ON t.item_id = i.id WHERE i.story_id = s.id AND t.state = 'match') AS topics, "
        "(SELECT src.affiliation FROM items i JOIN sources src ON src.id = i.source_id "
        "WHERE i.id = s.first_item_id) AS first_affiliation, "
        "(SELECT group_concat(DISTINCT src.affiliation) FROM items i JOIN sources src "
        "ON src.id = i.source_id WHERE i.story_id = s.id) AS affiliations FROM stories s "
        + (f"WHERE {' AND '.join(where)} " if where else "")
        + "ORDER BY s.first_seen_at DESC LIMIT ?")
    return [_record(StoryListing, r) for r in conn.execute(sql, [*params, limit])]


def story(conn: sqlite3.Connection, story_id: int) -> StoryDetail:
    row = conn.execute(
        "SELECT id, headline, first_seen_at, last_seen_at, first_item_id, first_outlet, "
        "representative_item_id, item_count, outlet_count, languages, agency FROM stories "
        "WHERE id = ?", (story_id,)).fetchone()
    if row is None:
        raise NotFound(f"no story {story_id}")
    items = conn.execute(
        "SELECT i.id, i.first_seen_at, i.outlet, i.source_id, i.match_kind, i.similarity, "
        "i.agency, i.language, i.title, i.url, i.status, i.removed_at, src.affiliation, "
        "src.country, "
        "(SELECT json_group_array(json_object('topic', t.topic, 'score', t.score, "
        "'matched', json(t.matched), 'state', t.state, 'probability', t.probability, "
        "'evidence', json(t.evidence), 'reason', t.reason)) FROM item_topics t "
        "WHERE t.item_id = i.id) AS topic_hits "
        "FROM items i LEFT JOIN sources src ON src.id = i.source_id "
        "WHERE i.story_id = ? ORDER BY i.first_seen_at, i.id", (story_id,)).fetchall()
    return _record(StoryDetail, row, sightings=tuple(_record(Sighting, r) for r in items))


EXPORT_COLUMNS = tuple(f.name for f in fields(ExportRow))


def export(conn: sqlite3.Connection, *, since: str | None, topic: str | None,
           batch: int = 500) -> Iterator[ExportRow]:
    """Items with text, oldest first, streamed in batches (memory stays flat)."""
    extra, params = _filters(topic, None, since, None)
    last = 0
    while True:
        rows = conn.execute(
            "SELECT i.id, i.story_id, i.source_id, i.outlet, i.first_seen_at, i.published_at, "
            "i.language, i.title, i.url, i.canonical_url, i.agency, i.match_kind, i.status, "
            "(SELECT group_concat(topic) FROM item_topics t WHERE t.item_id = i.id "
            "AND t.state = 'match') AS topics, "
            "(SELECT group_concat(l.kind || ':' || CASE WHEN l.story_id = i.story_id "
            " THEN l.other_story_id ELSE l.story_id END) FROM story_links l "
            " WHERE i.story_id IN (l.story_id, l.other_story_id)) AS related, "
            f"i.text FROM items i WHERE i.id > ? AND i.status != 'skipped'{extra} "
            "ORDER BY i.id LIMIT ?", [last, *params, batch]).fetchall()
        if not rows:
            return
        for r in rows:
            yield _record(ExportRow, r)
        last = rows[-1]["id"]


def stats(conn: sqlite3.Connection, since: str) -> Stats:
    def q(kind: Callable[..., _R], sql: str) -> tuple[_R, ...]:
        return tuple(_record(kind, r) for r in conn.execute(sql, (since,)))

    return Stats(
        per_day=q(DayCount, "SELECT substr(first_seen_at, 1, 10) AS day, count(*) AS items, "
                  "count(DISTINCT story_id) AS stories, "
                  "count(*) - count(DISTINCT story_id) AS copies_saved FROM items "
                  "WHERE status != 'skipped' AND first_seen_at >= ? GROUP BY day "
                  "ORDER BY day"),
        per_outlet=q(OutletCount, "SELECT outlet, count(*) AS items, "
                     "sum(match_kind = 'first') AS first, "
                     "sum(match_kind != 'first') AS copies FROM items "
                     "WHERE status != 'skipped' AND first_seen_at >= ? GROUP BY outlet "
                     "ORDER BY items DESC"),
        per_topic=q(TopicCount, "SELECT t.topic, count(*) AS items, "
                    "count(DISTINCT i.story_id) AS stories "
                    "FROM item_topics t JOIN items i ON i.id = t.item_id "
                    "WHERE i.first_seen_at >= ? AND t.state = 'match' GROUP BY t.topic "
                    "ORDER BY items DESC"),
    )
