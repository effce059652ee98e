"""The Store: one SQLite connection and the use-case methods the daemon and the commands need.

This module opens and migrates the file and holds the sources' poll state; a source run is
written by storage.polls (items, stories, versions) in one of its transactions; the connection
rules are in storage.connection, the outbox methods in storage.store_alerts, and health,
revisits, queries and backups in storage.store_operations. Connection rules (DESIGN.md
§5): WAL journal, ``busy_timeout``, ``foreign_keys=ON``, every write transaction opened as
``BEGIN IMMEDIATE``. Migrations run at open under the same write lock, so two processes starting
together apply them once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from storage import boilerplate, polls, stories
from storage.connection import readonly_uri, translated
from storage.errors import NotFound, SchemaTooNew, StorageError
from storage.rebuild import Fingerprinter, RebuildReport, rebuild
from storage.records import (
    KnownEntry,
    PollPolicy,
    PollRecord,
    PollSummary,
    SourceRecord,
    SourceState,
    StoredText,
    StoryLinker,
    StoryMatcher,
    iso,
    parse_iso,
)
from storage.schema_changes import MIGRATIONS
from storage.store_alerts import AlertsAPI
from storage.store_operations import OperationsAPI


class Store(AlertsAPI, OperationsAPI):
    """Use-case API over one SQLite file. Not thread-safe: one Store per thread/event loop."""

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    @translated
    def open(cls, path: Path | str, *, busy_timeout: float = 5.0, migrate: bool = True,
             readonly: bool = False) -> Store:
        path = Path(path)
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
        store = cls(conn, path)
        store.check_schema()
        if migrate and not readonly:
            store.migrate()
        return store

    def close(self) -> None:
        self._conn.close()

    def check_schema(self) -> None:
        """Refuse a file written by a newer version (migrations we do not know)."""
        known = {m.name for m in MIGRATIONS._migrations}
        try:
            applied = {m.name for m in MIGRATIONS.applied(self._db)}
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path}: not a feed-monitor database ({exc})") from None
        unknown = applied - known
        if unknown:
            raise SchemaTooNew(
                f"{self.path} was migrated by a newer feed-monitor "
                f"(unknown migrations: {', '.join(sorted(unknown))}); upgrade feed-monitor"
            )

    def pending_migrations(self) -> list[str]:
        return [m.name for m in MIGRATIONS.pending(self._db)]

    @translated
    def migrate(self) -> list[str]:
        """Apply pending migrations under the write lock; returns the names applied.

        An up-to-date file takes no lock at all, so commands open it while another process
        holds a long write transaction."""
        if not self.pending_migrations():
            return []
        # foreign keys are off while migrating (SQLite's table-rebuild procedure; a rebuild
        # checks them itself before its transaction commits), and on again afterwards
        self._conn.execute("PRAGMA foreign_keys = OFF")
        try:
            with self._transaction():
                pending = self.pending_migrations()
                MIGRATIONS.apply(self._db)
        finally:
            self._conn.execute("PRAGMA foreign_keys = ON")
        return pending

    # -- sources ---------------------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[SourceRecord], now: datetime) -> None:
        """Make `sources` match the configuration: insert new, update changed, disable removed.

        Poll state (ETag, next check, errors) survives a rename because rows are keyed by id.
        A new source is due at once.
        """
        sources = list(sources)
        with self._transaction() as conn:
            for s in sources:
                conn.execute(
                    """
                    INSERT INTO sources (id, name, kind, url, language, outlet, scope,
                                         interval_seconds, enabled, added_at, next_check_at,
                                         affiliation, country)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        affiliation = excluded.affiliation, country = excluded.country,
                        name = excluded.name, kind = excluded.kind, language = excluded.language,
                        outlet = excluded.outlet, scope = excluded.scope,
                        interval_seconds = excluded.interval_seconds, enabled = excluded.enabled,
                        etag = CASE WHEN url = excluded.url THEN etag END,
                        last_modified = CASE WHEN url = excluded.url THEN last_modified END,
                        body_hash = CASE WHEN url = excluded.url THEN body_hash END,
                        url = excluded.url
                    """,
                    (s.id, s.name, s.kind, s.url, s.language, s.outlet, s.scope,
                     s.interval_seconds, int(s.enabled), iso(now), iso(now), s.affiliation,
                     s.country),
                )
            ids = [s.id for s in sources]
            marks = ",".join("?" * len(ids))
            conn.execute(f"UPDATE sources SET enabled = 0 WHERE id NOT IN ({marks})", ids)

    def due_sources(self, now: datetime, limit: int = 1000,
                    horizon: timedelta | None = None) -> list[str]:
        """Sources whose next check has come. With `horizon`, also those scheduled further
        ahead than it: after the clock jumped back, they would otherwise wait that long."""
        far = iso(now + horizon) if horizon is not None else "9999"
        rows = self._query(
            "SELECT id FROM sources WHERE enabled = 1 AND (next_check_at <= ? OR "
            "next_check_at > ?) ORDER BY next_check_at, id LIMIT ?",
            (iso(now), far, limit),
        )
        return [r["id"] for r in rows]

    def source_ids(self, enabled_only: bool = True) -> list[str]:
        where = "WHERE enabled = 1" if enabled_only else ""
        return [r["id"] for r in self._query(f"SELECT id FROM sources {where} ORDER BY id")]

    def source_state(self, source_id: str) -> SourceState:
        rows = self._query("SELECT * FROM sources WHERE id = ?", (source_id,))
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

    @translated
    def rebuild_index(self, fingerprint: Fingerprinter, matcher: StoryMatcher, now: datetime,
                      window: timedelta,
                      step: Callable[[int], None] | None = None) -> RebuildReport:
        """Recompute every signature and the band index (see storage.rebuild)."""
        return rebuild(self._transaction, self._conn, fingerprint, matcher, now, now - window,
                       step=step)

    @translated
    def prune_index(self, now: datetime, window: timedelta, matcher: StoryMatcher) -> int:
        """Take stories older than the dedup window out of the band index."""
        with self._transaction() as conn:
            return stories.prune(conn, now - window, matcher)

    @translated
    def prune_raw_pages(self, before: datetime) -> int:
        """Delete compressed article HTML fetched before `before` (raw_html_retention)."""
        with self._transaction() as conn:
            return conn.execute("DELETE FROM raw_pages WHERE fetched_at < ?",
                                (iso(before),)).rowcount

    def fetched_elsewhere(self, canonical_urls: Iterable[str], source_id: str,
                          since: datetime) -> dict[str, StoredText]:
        """Articles another source already downloaded (an aggregator's links to an outlet we
        also poll), by canonical URL: their text is reused instead of a second download."""
        wanted = sorted(set(canonical_urls))
        found: dict[str, StoredText] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            for row in self._query(
                    f"SELECT id, source_id, canonical_url, title, text, author, published_at, "
                    f"language, status, declared_canonical_url, agency FROM items "
                    f"WHERE canonical_url IN ({','.join('?' * len(chunk))}) AND source_id != ? "
                    f"AND status IN ('ok', 'fallback') AND fetched_at >= ? ORDER BY id",
                    [*chunk, source_id, iso(since)]):
                if row["canonical_url"] not in found:
                    found[row["canonical_url"]] = StoredText(
                        item_id=row["id"], source_id=row["source_id"],
                        canonical_url=row["canonical_url"], title=row["title"],
                        text=row["text"], author=row["author"],
                        published_at=parse_iso(row["published_at"]), language=row["language"],
                        status=row["status"], declared_canonical_url=row["declared_canonical_url"],
                        agency=row["agency"])
        return found

    @translated
    def boilerplate_lines(self, outlet: str, line_hashes: Iterable[int],
                          min_items: int) -> set[int]:
        """Which of these paragraph hashes recur in `min_items` or more of the outlet's items."""
        return boilerplate.frequent_lines(self._conn, outlet, line_hashes, min_items)

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
                for r in self._query(
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

    @translated
    @translated
    def record_poll(self, record: PollRecord, matcher: StoryMatcher | None = None,
                    window: timedelta = timedelta(days=14),
                    policy: PollPolicy | None = None,
                    linker: StoryLinker | None = None) -> PollSummary:
        """Write one source run in one transaction (see `storage.polls.record_poll`)."""
        with self._transaction() as conn:
            return polls.record_poll(conn, record, matcher, window, policy, linker)
