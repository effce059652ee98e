"""The Store: one SQLite connection and the use-case methods the daemon and the commands need.

This module opens, migrates and writes source runs (sources, items, stories, versions); the
connection rules are in storage.connection, the outbox methods in storage.store_alerts, and
health, revisits, queries and backups in storage.store_operations. Connection rules (DESIGN.md
§5): WAL journal, ``busy_timeout``, ``foreign_keys=ON``, every write transaction opened as
``BEGIN IMMEDIATE``. Migrations run at open under the same write lock, so two processes starting
together apply them once.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from storage import boilerplate, outbox, revisits, stories
from storage.connection import readonly_uri, translate
from storage.errors import NotFound, SchemaTooNew, StorageError
from storage.rebuild import Fingerprinter, RebuildReport, rebuild
from storage.records import (
    ItemContent,
    KnownEntry,
    NewItem,
    PollRecord,
    PollSummary,
    SourceRecord,
    SourceState,
    StoryMatcher,
    iso,
    parse_iso,
)
from storage.schema import MIGRATIONS
from storage.store_alerts import AlertsAPI
from storage.store_operations import OperationsAPI

# Raw article HTML is compressed in the write transaction, on the monitor's event loop. Level 1
# against 6, measured on 63 KB news pages: 0.25 against 0.65 ms per page, for 12.5 against
# 10.9 KB stored (+15 %); the pages are kept for `raw_html_retention` (30 days) only.
RAW_ZLIB_LEVEL = 1


class Store(AlertsAPI, OperationsAPI):
    """Use-case API over one SQLite file. Not thread-safe: one Store per thread/event loop."""

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, busy_timeout: float = 5.0, migrate: bool = True,
             readonly: bool = False) -> Store:
        path = Path(path)
        try:
            if readonly:
                if not path.is_file():
                    raise StorageError(f"{path}: no database here yet (the daemon, "
                                       f"`monitor once` or `monitor migrate` creates it)")
                conn = sqlite3.connect(readonly_uri(path), uri=True, isolation_level=None,
                                       timeout=busy_timeout, check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout,
                                       check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise translate(exc) from None
        store = cls(conn, path)
        store.check_schema()
        if migrate and not readonly:
            store.migrate()
        return store

    def close(self) -> None:
        self.conn.close()

    def check_schema(self) -> None:
        """Refuse a file written by a newer version (migrations we do not know)."""
        known = {m.name for m in MIGRATIONS._migrations}
        try:
            applied = {m.name for m in MIGRATIONS.applied(self.db)}
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path}: not a feed-monitor database ({exc})") from None
        unknown = applied - known
        if unknown:
            raise SchemaTooNew(
                f"{self.path} was migrated by a newer feed-monitor "
                f"(unknown migrations: {', '.join(sorted(unknown))}); upgrade feed-monitor"
            )

    def pending_migrations(self) -> list[str]:
        return [m.name for m in MIGRATIONS.pending(self.db)]

    def migrate(self) -> list[str]:
        """Apply pending migrations under the write lock; returns the names applied.

        An up-to-date file takes no lock at all, so commands open it while another process
        holds a long write transaction."""
        try:
            if not self.pending_migrations():
                return []
        except sqlite3.Error as exc:
            raise translate(exc) from None
        with self.write():
            pending = self.pending_migrations()
            MIGRATIONS.apply(self.db)
        return pending

    # -- sources ---------------------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[SourceRecord], now: datetime) -> None:
        """Make `sources` match the configuration: insert new, update changed, disable removed.

        Poll state (ETag, next check, errors) survives a rename because rows are keyed by id.
        A new source is due at once.
        """
        sources = list(sources)
        with self.write() as conn:
            for s in sources:
                conn.execute(
                    """
                    INSERT INTO sources (id, name, kind, url, language, outlet, scope,
                                         interval_seconds, enabled, added_at, next_check_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        name = excluded.name, kind = excluded.kind, language = excluded.language,
                        outlet = excluded.outlet, scope = excluded.scope,
                        interval_seconds = excluded.interval_seconds, enabled = excluded.enabled,
                        etag = CASE WHEN url = excluded.url THEN etag END,
                        last_modified = CASE WHEN url = excluded.url THEN last_modified END,
                        body_hash = CASE WHEN url = excluded.url THEN body_hash END,
                        url = excluded.url
                    """,
                    (s.id, s.name, s.kind, s.url, s.language, s.outlet, s.scope,
                     s.interval_seconds, int(s.enabled), iso(now), iso(now)),
                )
            ids = [s.id for s in sources]
            marks = ",".join("?" * len(ids))
            conn.execute(f"UPDATE sources SET enabled = 0 WHERE id NOT IN ({marks})", ids)

    def due_sources(self, now: datetime, limit: int = 1000,
                    horizon: timedelta | None = None) -> list[str]:
        """Sources whose next check has come. With `horizon`, also those scheduled further
        ahead than it: after the clock jumped back, they would otherwise wait that long."""
        far = iso(now + horizon) if horizon is not None else "9999"
        rows = self.query(
            "SELECT id FROM sources WHERE enabled = 1 AND (next_check_at <= ? OR "
            "next_check_at > ?) ORDER BY next_check_at, id LIMIT ?",
            (iso(now), far, limit),
        )
        return [r["id"] for r in rows]

    def source_ids(self, enabled_only: bool = True) -> list[str]:
        where = "WHERE enabled = 1" if enabled_only else ""
        return [r["id"] for r in self.query(f"SELECT id FROM sources {where} ORDER BY id")]

    def source_state(self, source_id: str) -> SourceState:
        rows = self.query("SELECT * FROM sources WHERE id = ?", (source_id,))
        if not rows:
            raise NotFound(f"no source with id {source_id!r}")
        r = rows[0]
        next_check = parse_iso(r["next_check_at"])
        assert next_check is not None
        return SourceState(
            id=r["id"], url=r["url"], etag=r["etag"], last_modified=r["last_modified"],
            body_hash=r["body_hash"], error_count=r["error_count"], next_check_at=next_check,
            last_checked_at=parse_iso(r["last_checked_at"]),
            last_success_at=parse_iso(r["last_success_at"]),
            last_new_item_at=parse_iso(r["last_new_item_at"]), publish_gap_s=r["publish_gap_s"],
        )

    # -- entries and items -----------------------------------------------------------------------

    def rebuild_index(self, fingerprint: Fingerprinter, matcher: StoryMatcher, now: datetime,
                      window: timedelta,
                      step: Callable[[int], None] | None = None) -> RebuildReport:
        """Recompute every signature and the band index (see storage.rebuild)."""
        try:
            return rebuild(self.write, self.conn, fingerprint, matcher, now, now - window,
                           step=step)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def prune_index(self, now: datetime, window: timedelta, matcher: StoryMatcher) -> int:
        """Take stories older than the dedup window out of the band index."""
        try:
            with self.write() as conn:
                return stories.prune(conn, now - window, matcher)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def prune_raw_pages(self, before: datetime) -> int:
        """Delete compressed article HTML fetched before `before` (raw_html_retention)."""
        try:
            with self.write() as conn:
                return conn.execute("DELETE FROM raw_pages WHERE fetched_at < ?",
                                    (iso(before),)).rowcount
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def fetched_elsewhere(self, canonical_urls: Iterable[str], source_id: str,
                          since: datetime) -> dict[str, sqlite3.Row]:
        """Articles another source already downloaded (an aggregator's links to an outlet we
        also poll), by canonical URL: their text is reused instead of a second download."""
        wanted = sorted(set(canonical_urls))
        found: dict[str, sqlite3.Row] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            for row in self.query(
                    f"SELECT id, source_id, canonical_url, title, text, author, published_at, "
                    f"language, status, declared_canonical_url, agency FROM items "
                    f"WHERE canonical_url IN ({','.join('?' * len(chunk))}) AND source_id != ? "
                    f"AND status IN ('ok', 'fallback') AND fetched_at >= ? ORDER BY id",
                    [*chunk, source_id, iso(since)]):
                found.setdefault(row["canonical_url"], row)
        return found

    def boilerplate_lines(self, outlet: str, line_hashes: Iterable[int],
                          min_items: int) -> set[int]:
        """Which of these paragraph hashes recur in `min_items` or more of the outlet's items."""
        try:
            return boilerplate.frequent_lines(self.conn, outlet, line_hashes, min_items)
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def known_entries(self, source_id: str, keys: Iterable[str], guids: Iterable[str],
                      canonical_urls: Iterable[str]) -> list[KnownEntry]:
        """Stored entries of a source matching any of the keys, GUIDs or canonical links."""
        found: dict[int, KnownEntry] = {}
        for column, values in (("entry_key", keys), ("guid", guids),
                               ("canonical_url", canonical_urls)):
            values = sorted({v for v in values if v})
            for start in range(0, len(values), 500):
                chunk = values[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for r in self.query(
                    f"SELECT id, entry_key, guid, canonical_url, feed_hash, updated_at, title, "
                    f"status, fetch_attempts FROM items "
                    f"WHERE source_id = ? AND {column} IN ({marks})",
                    [source_id, *chunk],
                ):
                    found[r["id"]] = KnownEntry(
                        item_id=r["id"], entry_key=r["entry_key"], guid=r["guid"],
                        canonical_url=r["canonical_url"], feed_hash=r["feed_hash"],
                        updated_at=parse_iso(r["updated_at"]), title=r["title"],
                        status=r["status"], fetch_attempts=r["fetch_attempts"],
                    )
        return list(found.values())

    def record_poll(self, record: PollRecord, matcher: StoryMatcher | None = None,
                    window: timedelta = timedelta(days=14),
                    rollups: tuple[int, ...] = ()) -> PollSummary:
        """Write one source run — items, stories, fetch log, source state — in one transaction.

        Each new item with text joins the story it copies (same URL, same body, or a near copy
        as judged by ``matcher`` among stories first seen within ``window``) or starts one.
        """
        new_ids: list[int] = []
        story_ids: list[int] = []
        joined: list[int] = []
        revised: list[int] = []
        queued = 0
        since = record.checked_at - window
        try:
            with self.write() as conn:
                for fetch in record.fetches:
                    conn.execute(
                        "INSERT INTO fetches (source_id, purpose, url, started_at, duration_ms, "
                        "status, outcome, bytes, conditional, error) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (record.source_id, fetch.purpose, fetch.url, iso(fetch.started_at),
                         fetch.duration_ms, fetch.status, fetch.outcome, fetch.bytes,
                         int(fetch.conditional), fetch.error),
                    )
                for item in record.new_items:
                    item_id = self._insert_item(conn, record.source_id, item, record.checked_at)
                    new_ids.append(item_id)
                    if item.content.status == "skipped":
                        continue
                    a = stories.assign(
                        conn, item_id, item.outlet, item.content,
                        (item.canonical_url, item.content.declared_canonical_url),
                        item.fingerprint, matcher, record.checked_at, since)
                    (story_ids if a.new_story else joined).append(a.story_id)
                    outbox.write_topics(conn, item_id, item.topics)
                    added = outbox.enqueue(conn, a.story_id, item_id, item.alerts,
                                           record.checked_at)
                    if added and record.revisit_after is not None:
                        revisits.schedule_first(conn, item_id,
                                                record.checked_at + record.revisit_after)
                    queued += added
                    if not a.new_story and rollups:
                        queued += outbox.rollups(conn, a.story_id, rollups, record.checked_at)
                    if item.fingerprint is not None:
                        boilerplate.count_lines(conn, item.outlet, item.fingerprint.line_hashes,
                                                record.checked_at)
                for rev in record.revisions:
                    self._revise_item(conn, rev.item_id, rev.content, rev.feed_hash,
                                      rev.updated_at, rev.reason, record.checked_at)
                    if rev.fingerprint is not None and matcher is not None:
                        stories.update_signature(conn, rev.item_id, rev.fingerprint, matcher,
                                                 record.checked_at)
                    if rev.content.status != "skipped":
                        outbox.write_topics(conn, rev.item_id, rev.topics)
                        story = conn.execute("SELECT story_id FROM items WHERE id = ?",
                                             (rev.item_id,)).fetchone()[0]
                        if story is not None:
                            queued += outbox.enqueue(conn, story, rev.item_id, rev.alerts,
                                                     record.checked_at)
                    revised.append(rev.item_id)
                self._update_source(conn, record, bool(new_ids))
        except sqlite3.Error as exc:
            raise translate(exc) from None
        return PollSummary(tuple(new_ids), tuple(story_ids), tuple(revised), copies=len(joined),
                           joined_story_ids=tuple(dict.fromkeys(joined)), alerts=queued)

    def _update_source(self, conn: sqlite3.Connection, r: PollRecord, has_new: bool) -> None:
        failed = r.error is not None
        conn.execute(
            """
            UPDATE sources SET
                last_checked_at = :checked, next_check_at = :next, last_outcome = :outcome,
                last_status = coalesce(:status, last_status),
                etag = CASE WHEN :keep THEN etag ELSE :etag END,
                last_modified = CASE WHEN :keep THEN last_modified ELSE :last_modified END,
                body_hash = CASE WHEN :keep THEN body_hash ELSE :body_hash END,
                error_count = CASE WHEN :failed THEN error_count + 1 ELSE 0 END,
                last_error = CASE WHEN :failed THEN :error
                                  WHEN :problem IS NOT NULL THEN :problem ELSE last_error END,
                last_error_at = CASE WHEN :failed OR :problem IS NOT NULL THEN :checked
                                     ELSE last_error_at END,
                last_success_at = CASE WHEN :failed THEN last_success_at ELSE :checked END,
                last_new_item_at = CASE WHEN :has_new THEN :checked ELSE last_new_item_at END,
                publish_gap_s = coalesce(:gap, publish_gap_s)
            WHERE id = :id
            """,
            {"checked": iso(r.checked_at), "next": iso(r.next_check_at), "outcome": r.outcome,
             "status": r.status, "keep": int(r.keep_validators or failed), "etag": r.etag,
             "last_modified": r.last_modified, "body_hash": r.body_hash,
             "failed": int(failed), "error": r.error, "problem": r.problem,
             "has_new": int(has_new), "id": r.source_id, "gap": r.publish_gap_s},
        )

    def _insert_item(self, conn: sqlite3.Connection, source_id: str, item: NewItem,
                     now: datetime) -> int:
        c = item.content
        cur = conn.execute(
            """
            INSERT INTO items (source_id, entry_key, guid, url, canonical_url,
                declared_canonical_url, outlet, title, author, summary, published_at, updated_at,
                first_seen_at, fetched_at, language, text, word_count, status, status_detail,
                fetch_attempts, feed_hash, date_note, agency)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (source_id, item.entry_key, item.guid, item.url, item.canonical_url,
             c.declared_canonical_url, item.outlet, c.title, c.author, item.summary,
             iso(c.published_at), iso(item.updated_at), iso(now), iso(c.fetched_at),
             c.language, c.text, _word_count(c.text), c.status, c.status_detail,
             c.fetch_attempts, item.feed_hash, c.date_note, c.agency),
        )
        item_id = int(cur.lastrowid or 0)
        self._write_search_and_raw(conn, item_id, c)
        return item_id

    def _write_search_and_raw(self, conn: sqlite3.Connection, item_id: int,
                              c: ItemContent) -> None:
        conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
        if c.status != "skipped":
            conn.execute("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                         (item_id, c.search_title, c.search_text))
        if c.raw is not None:
            conn.execute(
                "INSERT OR REPLACE INTO raw_pages (item_id, url, fetched_at, content_type, "
                "encoding, size, html_zlib) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item_id, c.raw.url, iso(c.raw.fetched_at), c.raw.content_type, c.raw.encoding,
                 len(c.raw.html), zlib.compress(c.raw.html, RAW_ZLIB_LEVEL)),
            )

    def _revise_item(self, conn: sqlite3.Connection, item_id: int, c: ItemContent,
                     feed_hash: str | None, updated_at: datetime | None, reason: str,
                     now: datetime) -> None:
        old = conn.execute("SELECT title, text, published_at, status FROM items WHERE id = ?",
                           (item_id,)).fetchone()
        if old is None:
            raise NotFound(f"no item {item_id}")
        if old["status"] != "skipped" and (old["title"] != c.title or old["text"] != c.text):
            conn.execute(
                "INSERT INTO item_versions (item_id, title, text, published_at, replaced_at, "
                "reason) VALUES (?, ?, ?, ?, ?, ?)",
                (item_id, old["title"], old["text"], old["published_at"], iso(now), reason),
            )
        conn.execute(
            """
            UPDATE items SET title = ?, text = ?, word_count = ?, author = coalesce(?, author),
                published_at = coalesce(?, published_at), fetched_at = ?, language = ?,
                status = ?, status_detail = ?, feed_hash = ?, updated_at = ?,
                fetch_attempts = fetch_attempts + ?,
                declared_canonical_url = coalesce(?, declared_canonical_url),
                agency = coalesce(?, agency)
            WHERE id = ?
            """,
            (c.title, c.text, _word_count(c.text), c.author, iso(c.published_at),
             iso(c.fetched_at), c.language, c.status, c.status_detail, feed_hash,
             iso(updated_at), c.fetch_attempts, c.declared_canonical_url, c.agency, item_id),
        )
        self._write_search_and_raw(conn, item_id, c)
        story = conn.execute("SELECT story_id FROM items WHERE id = ?", (item_id,)).fetchone()
        if story["story_id"] is None and c.status != "skipped":
            outlet = conn.execute("SELECT outlet FROM items WHERE id = ?", (item_id,)).fetchone()
            stories.assign(conn, item_id, outlet["outlet"], c, (), None, None, now, now)
        elif story["story_id"] is not None:
            conn.execute("UPDATE stories SET headline = ?, last_seen_at = ? "
                         "WHERE id = ? AND representative_item_id = ?",
                         (c.title, iso(now), story["story_id"], item_id))




def _word_count(text: str | None) -> int:
    return len(text.split()) if text else 0

