"""Schema changes after the first five migrations (storage.schema), applied in the order they
are written here. Change the schema only by appending a migration at the end of this file."""

from __future__ import annotations

import re

from sqlite_utils import Database

from storage.schema import MIGRATIONS

__all__ = ["MIGRATIONS"]


@MIGRATIONS(name="0006_source_kind_unchecked")
def _source_kind_unchecked(db: Database) -> None:
    """`sources.kind` without its CHECK: kinds (feed, page, sitemap, telegram, ...) are
    validated by the configuration. A table rebuild (SQLite's procedure: new table, copy,
    drop, rename, indexes again, foreign keys checked), run with foreign keys off."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sources'"
                     ).fetchone()[0]
    check = re.compile(r"\s*CHECK\s*\(\s*kind\s+IN\s*\([^)]*\)\s*\)", re.I)
    if not check.search(sql):
        return
    rebuilt = check.sub("", sql, count=1).replace("CREATE TABLE sources", "CREATE TABLE "
                                                  "sources_rebuilt", 1)
    indexes = [r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                        "AND tbl_name = 'sources' AND sql IS NOT NULL")]
    db.execute(rebuilt)
    db.execute("INSERT INTO sources_rebuilt SELECT * FROM sources")
    db.execute("DROP TABLE sources")
    db.execute("ALTER TABLE sources_rebuilt RENAME TO sources")
    for statement in indexes:
        db.execute(statement)
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"0006_source_kind_unchecked: {len(broken)} foreign key problems")


_WHO = [
    # who the outlet is (see monitor.configuration.sources.AFFILIATIONS) and where it is based
    "ALTER TABLE sources ADD COLUMN affiliation TEXT",
    "ALTER TABLE sources ADD COLUMN country TEXT",
]


@MIGRATIONS(name="0011_source_affiliation")
def _source_affiliation(db: Database) -> None:
    for statement in _WHO:
        db.execute(statement)


_READER = [
    # the reader's sources page (and `monitor status`) count each source's recent items:
    # a covering range per source instead of a walk over all its rows
    "CREATE INDEX items_source_seen ON items (source_id, first_seen_at)",
]


@MIGRATIONS(name="0010_reader")
def _reader(db: Database) -> None:
    for statement in _READER:
        db.execute(statement)


_REBUILD_STATE = [
    # an index rebuild in progress: a killed `rebuild-index` is resumed from `last_item_id`
    # (at the next start of the daemon, `once` or `rebuild-index`) and shown by `status`
    """
    CREATE TABLE index_rebuild (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        started_at TEXT NOT NULL,
        since TEXT NOT NULL,
        phase TEXT NOT NULL CHECK (phase IN ('signatures', 'copies')),
        last_item_id INTEGER NOT NULL DEFAULT 0,
        items_done INTEGER NOT NULL DEFAULT 0
    )
    """,
]


@MIGRATIONS(name="0008_index_rebuild")
def _index_rebuild(db: Database) -> None:
    for statement in _REBUILD_STATE:
        db.execute(statement)


_REVISIT_OUTCOMES = [
    # a revisit's own outcome: transient failures retried without using up the revisit
    "ALTER TABLE items ADD COLUMN revisit_failures INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE items ADD COLUMN revisit_error TEXT",
]


@MIGRATIONS(name="0008_revisit_outcomes")
def _revisit_outcomes(db: Database) -> None:
    for statement in _REVISIT_OUTCOMES:
        db.execute(statement)


_TOPIC_JUDGEMENT = [
    "ALTER TABLE item_topics ADD COLUMN state TEXT NOT NULL DEFAULT 'match'",
    "ALTER TABLE item_topics ADD COLUMN probability REAL",
    "ALTER TABLE item_topics ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE item_topics ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
]


@MIGRATIONS(name="0007_topic_judgement")
def _topic_judgement(db: Database) -> None:
    """Topic hits keep the model's probability, its evidence and the reason in plain words;
    `state` is 'match' or 'possible' (just below the threshold: never alerts immediately)."""
    for statement in _TOPIC_JUDGEMENT:
        db.execute(statement)


_RELATED = [
    # what related-coverage links need of an item that passed the topic stage (the first item
    # of each story): anchors, content words, the optional model's embedding
    """
    CREATE TABLE item_features (
        item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        story_id INTEGER NOT NULL,
        language TEXT NOT NULL,
        anchors TEXT NOT NULL,
        terms TEXT NOT NULL,
        embedding BLOB,
        model TEXT,
        seen_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX item_features_seen ON item_features (seen_at)",
    # related stories: the same event in other words or in another language; never a merge
    """
    CREATE TABLE story_links (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories(id),
        other_story_id INTEGER NOT NULL REFERENCES stories(id),
        kind TEXT NOT NULL CHECK (kind IN ('same_event', 'translation')),
        score REAL NOT NULL,
        evidence TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (story_id, other_story_id)
    )
    """,
    "CREATE INDEX story_links_other ON story_links (other_story_id)",
]


@MIGRATIONS(name="0012_related")
def _related(db: Database) -> None:
    for statement in _RELATED:
        db.execute(statement)


@MIGRATIONS(name="0013_possible_index")
def _possible_index(db: Database) -> None:
    """The reader's "possible" band found from its own rows: without this index the story list
    walked every story, newest first, looking for one whose items are all `possible`."""
    db.execute("CREATE INDEX IF NOT EXISTS item_topics_possible ON item_topics (item_id) "
               "WHERE state = 'possible'")


_STORY_OUTLETS = [
    # whether a story already has an item of an outlet, as a member joins (storage.stories
    # .joined): one probe instead of recounting the story's outlets over all its members
    "CREATE INDEX items_story_outlet ON items (story_id, outlet)",
    # a story's signatures, as the hourly prune takes old stories out of the band index: without
    # it each pruned story read the whole signatures table
    "CREATE INDEX signatures_story ON signatures (story_id)",
]


@MIGRATIONS(name="0014_story_outlets")
def _story_outlets(db: Database) -> None:
    for statement in _STORY_OUTLETS:
        db.execute(statement)
