"""The Store's read-side and upkeep methods: health, revisits, queries, backup, counts
(the SQL lives in storage.health, storage.revisits and storage.queries)."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from storage import health, links, queries, rebuild, revisits
from storage.connection import Connected, translated
from storage.health import DaemonState, SourceHealth
from storage.records import (
    ExportRow,
    ItemRefresh,
    SearchHit,
    Stats,
    StoredPage,
    StoryDetail,
    StoryLink,
    StoryListing,
    StoryMatcher,
    StoryRow,
    TableCounts,
    TopicHit,
    iso,
)


class OperationsAPI(Connected):
    @translated
    def source_health(self, now: datetime, failing_after: int, silent_factor: float,
                      min_history: int) -> list[SourceHealth]:
        return health.sources(self._conn, now, failing_after, silent_factor, min_history)

    @translated
    def rebuild_pending(self) -> rebuild.RebuildProgress | None:
        """An interrupted `rebuild-index` (see storage.rebuild), or None."""
        return rebuild.pending(self._conn)

    def mark_health_told(self, source_id: str, state: str, now: datetime) -> None:
        self._write(lambda c: health.mark_told(c, source_id, state, now))

    def due_revisits(self, now: datetime, limit: int = 20) -> list[revisits.Due]:
        return revisits.due(self._conn, now, limit)

    def record_revisit(self, item_id: int, now: datetime, next_at: datetime | None, *,
                       removed: str | None = None, refresh: ItemRefresh | None = None,
                       matcher: StoryMatcher | None = None, error: str | None = None,
                       retry: bool = False) -> None:
        def write(conn: sqlite3.Connection) -> None:
            revisits.record(conn, item_id, now, next_at, removed=removed, error=error,
                            retry=retry)
            if refresh is not None:
                revisits.refresh(conn, refresh, matcher, now)
        self._write(write)

    @translated
    def search(self, match: str, **filters: Any) -> list[SearchHit]:
        return queries.search(self._conn, match, **filters)

    def story_list(self, **filters: Any) -> list[StoryListing]:
        return queries.stories(self._conn, **filters)

    def story(self, story_id: int) -> StoryDetail:
        """One story with its sightings; NotFound if there is none."""
        return queries.story(self._conn, story_id)

    @translated
    def story_links(self, story_id: int) -> list[StoryLink]:
        """A story's related stories (same event in other words, translation), both
        directions, earliest first: for `monitor show`, the export and the web reader."""
        return links.links_of(self._conn, story_id)

    def export(self, **filters: Any) -> Iterator[ExportRow]:
        return queries.export(self._conn, **filters)

    def stats(self, since: str) -> Stats:
        return queries.stats(self._conn, since)

    def raw_pages_since(self, since: str, after: int = 0, limit: int = 200) -> list[StoredPage]:
        """Stored pages with their item's outlet, title and language, in item id order, for
        re-extraction."""
        rows = self._query(
            "SELECT r.item_id, i.outlet, i.title, i.language, r.url, r.content_type, "
            "r.html_zlib FROM raw_pages r JOIN items i ON i.id = r.item_id "
            "WHERE r.fetched_at >= ? AND r.item_id > ? ORDER BY r.item_id LIMIT ?",
            (since, after, limit))
        return [StoredPage(r[0], r[1], r[2], r[3], r[4], r[5], _inflate(r[6]))
                for r in rows]

    @translated
    def item_texts(self, ids: Sequence[int]) -> Mapping[int, tuple[str, str]]:
        """(source id, text as published) of these items, for snippets in the original text."""
        found: dict[int, tuple[str, str]] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            for r in self._query(f"SELECT id, source_id, text FROM items WHERE id IN "
                                 f"({','.join('?' * len(chunk))})", chunk):
                found[r[0]] = (r[1], r[2] or "")
        return found

    @translated
    def item_topics(self, item_id: int) -> tuple[TopicHit, ...]:
        """An item's topic hits, best first."""
        return tuple(TopicHit(r["topic"], r["score"], tuple(json.loads(r["matched"])))
                     for r in self._query("SELECT topic, score, matched FROM item_topics "
                                          "WHERE item_id = ? ORDER BY score DESC", (item_id,)))

    @translated
    def raw_page_count(self, since: str) -> int:
        """How many stored pages were fetched at or after `since` (ISO-8601)."""
        return int(self._query("SELECT count(*) FROM raw_pages WHERE fetched_at >= ?",
                               (since,))[0][0])

    @translated
    def text_item_count(self) -> int:
        """Items with a story and a text: what `rebuild_index` fingerprints."""
        return int(self._query("SELECT count(*) FROM items WHERE story_id IS NOT NULL "
                               "AND text IS NOT NULL AND text != ''")[0][0])

    def refresh_item(self, refresh: ItemRefresh, matcher: StoryMatcher,
                     now: datetime) -> bool:
        """Replace one item's content (see `revisits.refresh`); True if it changed."""
        return self._write(lambda conn: revisits.refresh(conn, refresh, matcher, now))

    def heartbeat(self, now: datetime, starting: bool = False) -> None:
        self._write(lambda c: health.heartbeat(c, now, starting))

    def daemon_stopped(self, now: datetime) -> None:
        self._write(lambda c: health.stopped(c, now))

    def daemon_state(self) -> DaemonState | None:
        return health.daemon_state(self._conn)

    def prune_fetches(self, before: datetime) -> int:
        return self._write(lambda c: health.prune_fetches(c, before))

    def checkpoint(self) -> tuple[int, int, int]:
        """A passive WAL checkpoint: (busy, log frames, checkpointed frames)."""
        row = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def size_bytes(self) -> int:
        return health.file_bytes(self.path)

    @translated
    def backup(self, target: Path) -> None:
        health.backup(self._conn, target)

    def counts(self) -> TableCounts:
        return TableCounts(**{f.name: self._query(f"SELECT count(*) FROM {f.name}")[0][0]
                              for f in fields(TableCounts)})

    def stories(self, since: datetime | None = None, limit: int = 50) -> list[StoryRow]:
        rows = self._query(
            "SELECT s.*, (SELECT group_concat(DISTINCT i.outlet) FROM items i "
            "WHERE i.story_id = s.id) AS outlet_list FROM stories s "
            "WHERE s.first_seen_at >= ? ORDER BY s.outlet_count DESC, s.first_seen_at DESC "
            "LIMIT ?",
            (iso(since) if since else "", limit),
        )
        return [
            StoryRow(id=r["id"], headline=r["headline"], first_seen_at=r["first_seen_at"],
                     first_outlet=r["first_outlet"], item_count=r["item_count"],
                     outlet_count=r["outlet_count"], languages=r["languages"], agency=r["agency"],
                     outlets=tuple((r["outlet_list"] or "").split(",")))
            for r in rows
        ]

    def raw_html(self, item_id: int) -> bytes | None:
        rows = self._query("SELECT html_zlib FROM raw_pages WHERE item_id = ?", (item_id,))
        return zlib.decompress(rows[0]["html_zlib"]) if rows else None


def _inflate(blob: bytes, limit: int = 64 << 20) -> bytes:
    """A stored page, decompressed with a cap; b"" when the blob is damaged (the caller
    reports that page, the others go on)."""
    try:
        return zlib.decompressobj().decompress(blob, limit)
    except zlib.error:
        return b""
