"""The Store's read-side and upkeep methods: health, revisits, queries, backup, counts
(the SQL lives in storage.health, storage.revisits and storage.queries)."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from storage import health, queries, rebuild, revisits, stories
from storage.connection import Connected, translate
from storage.health import SourceHealth
from storage.records import Fingerprint, StoryMatcher, StoryRow, iso


class OperationsAPI(Connected):
    def source_health(self, now: datetime, failing_after: int, silent_factor: float,
                      min_history: int) -> list[SourceHealth]:
        try:
            return health.sources(self.conn, now, failing_after, silent_factor, min_history)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def rebuild_pending(self) -> sqlite3.Row | None:
        """An interrupted `rebuild-index` (see storage.rebuild), or None."""
        try:
            return rebuild.pending(self.conn)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def mark_health_told(self, source_id: str, state: str, now: datetime) -> None:
        self._write(lambda c: health.mark_told(c, source_id, state, now))

    def due_revisits(self, now: datetime, limit: int = 20) -> list[revisits.Due]:
        return revisits.due(self.conn, now, limit)

    def record_revisit(self, item_id: int, now: datetime, next_at: datetime | None,
                       **outcome: Any) -> None:
        self._write(lambda c: revisits.record(c, item_id, now, next_at, **outcome))

    def search(self, match: str, **filters: Any) -> list[dict[str, Any]]:
        try:
            return queries.search(self.conn, match, **filters)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def story_list(self, **filters: Any) -> list[dict[str, Any]]:
        return queries.stories(self.conn, **filters)

    def story(self, story_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return queries.story(self.conn, story_id)

    def export(self, **filters: Any) -> Iterator[dict[str, Any]]:
        return queries.export(self.conn, **filters)

    def stats(self, since: str) -> dict[str, list[dict[str, Any]]]:
        return queries.stats(self.conn, since)

    def raw_pages_since(self, since: str, after: int = 0,
                        limit: int = 200) -> list[tuple[int, str, str, bytes]]:
        """(item id, outlet, url, html) of stored pages, in id order, for re-extraction."""
        rows = self.query(
            "SELECT r.item_id, i.outlet, r.url, r.html_zlib FROM raw_pages r JOIN items i "
            "ON i.id = r.item_id WHERE r.fetched_at >= ? AND r.item_id > ? ORDER BY r.item_id "
            "LIMIT ?", (since, after, limit))
        return [(r[0], r[1], r[2], _inflate(r[3])) for r in rows]

    def replace_text(self, item_id: int, text: str, search_text: str, title: str,
                     search_title: str, fingerprint: Fingerprint | None,
                     matcher: StoryMatcher, now: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            changed = revisits.replace_text(conn, item_id, text, search_text, title,
                                            search_title)
            if changed and fingerprint is not None:
                stories.update_signature(conn, item_id, fingerprint, matcher, now)
            return changed
        return self._write(write)

    def heartbeat(self, now: datetime, starting: bool = False) -> None:
        self._write(lambda c: health.heartbeat(c, now, starting))

    def daemon_stopped(self, now: datetime) -> None:
        self._write(lambda c: health.stopped(c, now))

    def daemon_row(self) -> sqlite3.Row | None:
        return health.daemon_row(self.conn)

    def prune_fetches(self, before: datetime) -> int:
        return self._write(lambda c: health.prune_fetches(c, before))

    def checkpoint(self) -> tuple[int, int, int]:
        """A passive WAL checkpoint: (busy, log frames, checkpointed frames)."""
        row = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def size_bytes(self) -> int:
        return health.file_bytes(self.path)

    def backup(self, target: Path) -> None:
        try:
            health.backup(self.conn, target)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in ("sources", "items", "stories", "fetches", "item_versions", "alerts"):
            out[table] = self.query(f"SELECT count(*) AS n FROM {table}")[0]["n"]
        return out

    def stories(self, since: datetime | None = None, limit: int = 50) -> list[StoryRow]:
        rows = self.query(
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
        rows = self.query("SELECT html_zlib FROM raw_pages WHERE item_id = ?", (item_id,))
        return zlib.decompress(rows[0]["html_zlib"]) if rows else None


def _inflate(blob: bytes, limit: int = 64 << 20) -> bytes:
    """A stored page, decompressed with a cap; b"" when the blob is damaged (the caller
    reports that page, the others go on)."""
    try:
        return zlib.decompressobj().decompress(blob, limit)
    except zlib.error:
        return b""
