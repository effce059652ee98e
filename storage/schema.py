"""The schema, as sqlite-utils migrations: the first five here, later ones in
storage.schema_changes. Change it only by appending a migration there.

Every table and column is documented in README.md ("The database"); a test compares it with the
live schema. Timestamps are UTC ISO-8601 strings ("2026-01-20T09:12:00Z"), so they sort and compare
as text and read well in any SQL client.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("feed-monitor")

_INITIAL = [
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('feed', 'page')),
        url TEXT NOT NULL,
        language TEXT NOT NULL,
        outlet TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('general', 'topic')),
        interval_seconds REAL NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        added_at TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        next_check_at TEXT NOT NULL,
        last_checked_at TEXT,
        last_success_at TEXT,
        last_status INTEGER,
        last_outcome TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        last_error_at TEXT,
        last_new_item_at TEXT
    )
    """,
    "CREATE INDEX sources_due ON sources (enabled, next_check_at)",
    """
    CREATE TABLE fetches (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources (id),
        purpose TEXT NOT NULL CHECK (purpose IN ('feed', 'page', 'article')),
        url TEXT NOT NULL,
        started_at TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        status INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'not_modified', 'error')),
        bytes INTEGER,
        conditional INTEGER NOT NULL DEFAULT 0,
        error TEXT
    )
    """,
    "CREATE INDEX fetches_source_time ON fetches (source_id, started_at)",
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        headline TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        first_item_id INTEGER,
        first_outlet TEXT NOT NULL,
        representative_item_id INTEGER,
        item_count INTEGER NOT NULL DEFAULT 1,
        outlet_count INTEGER NOT NULL DEFAULT 1,
        languages TEXT NOT NULL,
        agency TEXT
    )
    """,
    "CREATE INDEX stories_first_seen ON stories (first_seen_at)",
    """
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources (id),
        entry_key TEXT NOT NULL,
        guid TEXT,
        url TEXT,
        canonical_url TEXT,
        declared_canonical_url TEXT,
        outlet TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        author TEXT,
        summary TEXT,
        published_at TEXT,
        updated_at TEXT,
        first_seen_at TEXT NOT NULL,
        fetched_at TEXT,
        language TEXT,
        text TEXT,
        word_count INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL
            CHECK (status IN ('ok', 'fallback', 'timeout', 'empty', 'error', 'skipped')),
        status_detail TEXT,
        fetch_attempts INTEGER NOT NULL DEFAULT 0,
        feed_hash TEXT,
        date_note TEXT,
        story_id INTEGER REFERENCES stories (id),
        match_kind TEXT CHECK (match_kind IN ('first', 'url', 'exact', 'near')),
        similarity REAL,
        agency TEXT,
        UNIQUE (source_id, entry_key)
    )
    """,
    "CREATE INDEX items_source_guid ON items (source_id, guid)",
    "CREATE INDEX items_source_canonical ON items (source_id, canonical_url)",
    "CREATE INDEX items_canonical ON items (canonical_url)",
    "CREATE INDEX items_story ON items (story_id)",
    "CREATE INDEX items_first_seen ON items (first_seen_at)",
    "CREATE INDEX items_published ON items (published_at)",
    """
    CREATE TABLE item_versions (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items (id),
        title TEXT NOT NULL,
        text TEXT,
        published_at TEXT,
        replaced_at TEXT NOT NULL,
        reason TEXT NOT NULL
    )
    """,
    "CREATE INDEX item_versions_item ON item_versions (item_id)",
    """
    CREATE TABLE raw_pages (
        item_id INTEGER PRIMARY KEY REFERENCES items (id),
        url TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        content_type TEXT,
        encoding TEXT,
        size INTEGER NOT NULL,
        html_zlib BLOB NOT NULL
    )
    """,
    "CREATE INDEX raw_pages_fetched ON raw_pages (fetched_at)",
    """
    CREATE TABLE item_topics (
        item_id INTEGER NOT NULL REFERENCES items (id),
        topic TEXT NOT NULL,
        score REAL NOT NULL,
        matched TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (item_id, topic)
    )
    """,
    "CREATE INDEX item_topics_topic ON item_topics (topic)",
    """
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        story_id INTEGER REFERENCES stories (id),
        item_id INTEGER REFERENCES items (id),
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        sent_at TEXT,
        last_error TEXT,
        payload TEXT NOT NULL DEFAULT '{}'
    )
    """,
    "CREATE INDEX alerts_state ON alerts (state, next_attempt_at)",
    "CREATE UNIQUE INDEX alerts_once ON alerts (story_id, channel, kind)",
    """
    CREATE VIRTUAL TABLE items_fts USING fts5 (
        title, text, tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
]


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    for statement in _INITIAL:
        db.execute(statement)


_DEDUP = [
    # one row per item with text: how it was fingerprinted. The LSH index holds only each story's
    # representative, so candidates are stories and copies never chain off each other.
    """
    CREATE TABLE dedup_params (
        id INTEGER PRIMARY KEY,
        params TEXT NOT NULL UNIQUE
    )
    """,
    """
    CREATE TABLE signatures (
        item_id INTEGER PRIMARY KEY REFERENCES items (id),
        story_id INTEGER NOT NULL REFERENCES stories (id),
        text_hash INTEGER NOT NULL,
        word_count INTEGER NOT NULL,
        shingle_count INTEGER NOT NULL,
        minhash BLOB,
        lead_minhash BLOB,
        params_id INTEGER NOT NULL REFERENCES dedup_params (id),
        created_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX signatures_text_hash ON signatures (text_hash)",
    """
    CREATE TABLE lsh_bands (
        band_key INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        PRIMARY KEY (band_key, item_id)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE outlet_lines (
        outlet TEXT NOT NULL,
        line_hash INTEGER NOT NULL,
        items INTEGER NOT NULL,
        last_seen_at TEXT NOT NULL,
        PRIMARY KEY (outlet, line_hash)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE story_events (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('representative', 'detach', 'merge')),
        item_id INTEGER REFERENCES items (id),
        other_story_id INTEGER REFERENCES stories (id),
        detail TEXT
    )
    """,
    "CREATE INDEX story_events_story ON story_events (story_id)",
    "CREATE INDEX items_declared_canonical ON items (declared_canonical_url)",
    "ALTER TABLE stories ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1",
]


@MIGRATIONS(name="0002_dedup")
def _dedup(db: Database) -> None:
    for statement in _DEDUP:
        db.execute(statement)


_ALERTS = [
    "ALTER TABLE stories ADD COLUMN muted INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE alerts ADD COLUMN digest INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX alerts_channel_sent ON alerts (channel, sent_at)",
]


@MIGRATIONS(name="0003_alerts")
def _alerts(db: Database) -> None:
    for statement in _ALERTS:
        db.execute(statement)


_OPERATIONS = [
    # the running daemon's heartbeat: `monitor status` tells a dead daemon from a quiet one
    """
    CREATE TABLE daemon (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL,
        stopped_at TEXT
    )
    """,
    # what the operator was last told about a source: ok | failing | silent
    "ALTER TABLE sources ADD COLUMN health TEXT NOT NULL DEFAULT 'ok'",
    "ALTER TABLE sources ADD COLUMN health_changed_at TEXT",
]


@MIGRATIONS(name="0004_operations")
def _operations(db: Database) -> None:
    for statement in _OPERATIONS:
        db.execute(statement)


_SCHEDULING = [
    # smoothed seconds between new items (adaptive polling), and article revisits/removals
    "ALTER TABLE sources ADD COLUMN publish_gap_s REAL",
    "ALTER TABLE items ADD COLUMN next_revisit_at TEXT",
    "ALTER TABLE items ADD COLUMN revisits INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE items ADD COLUMN removed_at TEXT",
    "ALTER TABLE items ADD COLUMN removed_detail TEXT",
    "CREATE INDEX items_revisit ON items (next_revisit_at) WHERE next_revisit_at IS NOT NULL",
]


@MIGRATIONS(name="0005_scheduling")
def _scheduling(db: Database) -> None:
    for statement in _SCHEDULING:
        db.execute(statement)
