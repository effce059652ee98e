"""Storage on real temporary SQLite files: migrations, one-transaction writes, identity."""

from __future__ import annotations

import ast
import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import SchemaTooNew, StorageError, Store
from storage.records import (
    FetchLog,
    ItemContent,
    NewItem,
    PollRecord,
    SourceRecord,
)
from tests.conftest import REPO, sql

NOW = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


def _source(store: Store, sid: str = "s1") -> None:
    store.sync_sources([SourceRecord(sid, sid, "feed", "http://x.org/feed", "en", "X", "topic",
                                     900.0)], NOW)


def _item(key: str, title: str = "Diplomat defects", status: str = "ok") -> NewItem:
    content = ItemContent(title=title, text="Some text here", author=None, published_at=NOW,
                          language="en", status=status, fetched_at=NOW,
                          search_title=title.lower(), search_text="some text here")
    return NewItem(entry_key=key, guid=key, url="http://x.org/" + key,
                   canonical_url="https://x.org/" + key, outlet="X", summary=None,
                   updated_at=None, feed_hash="h-" + key, content=content)


def test_storage_never_imports_monitor() -> None:
    for path in (REPO / "storage").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "monitor" or n.startswith("monitor.") for n in names), path


def test_open_sets_pragmas_and_migrates_once(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    assert sql(store, "PRAGMA journal_mode")[0][0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # per connection
    assert store.pending_migrations() == []
    assert store.migrate() == []
    store.close()
    again = Store.open(tmp_path / "a.db")
    assert {r["name"] for r in sql(again, "SELECT name FROM sqlite_master")} >= {
        "sources", "items", "stories", "fetches", "item_versions", "raw_pages", "item_topics",
        "alerts", "items_fts"}
    again.close()


def _open_in_process(path: str) -> None:
    Store.open(path, busy_timeout=10).close()


def test_two_processes_migrating_together_do_not_race(tmp_path: Path) -> None:
    path = str(tmp_path / "race.db")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_in_process, args=(path,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = Store.open(path)
    names = [r["name"] for r in sql(store, "SELECT name FROM _sqlite_migrations")]
    assert sorted(names) == sorted(set(names)) and "0001_initial" in names  # each applied once
    store.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "n.db")
    store._conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                       "VALUES ('feed-monitor', '9999_future', 'x')")
    store.close()
    with pytest.raises(SchemaTooNew, match="newer feed-monitor"):
        Store.open(tmp_path / "n.db")


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        Store.open(tmp_path / "junk.db")


def test_record_poll_writes_everything_in_one_transaction(store: Store) -> None:
    _source(store)
    record = PollRecord(source_id="s1", checked_at=NOW, outcome="new",
                        next_check_at=NOW + timedelta(minutes=15), status=200, etag='"e"',
                        fetches=(FetchLog("feed", "http://x.org/feed", NOW, 5, 200, "ok"),),
                        new_items=(_item("a"), _item("b", status="skipped")))
    summary = store.record_poll(record)
    assert len(summary.new_item_ids) == 2 and len(summary.new_story_ids) == 1
    state = store.source_state("s1")
    assert state.etag == '"e"' and state.error_count == 0
    assert sql(store, "SELECT count(*) FROM items_fts")[0][0] == 1  # skipped rows not indexed

    # a failing write (duplicate entry key) rolls back every part of the run
    bad = PollRecord(source_id="s1", checked_at=NOW, outcome="new",
                     next_check_at=NOW + timedelta(hours=5), etag='"other"',
                     fetches=(FetchLog("feed", "u", NOW, 1, 200, "ok"),),
                     new_items=(_item("c"), _item("a")))
    with pytest.raises(StorageError):
        store.record_poll(bad)
    assert sql(store, "SELECT count(*) FROM items")[0][0] == 2
    assert sql(store, "SELECT count(*) FROM fetches")[0][0] == 1
    assert store.source_state("s1").etag == '"e"'


def test_errors_count_and_keep_validators(store: Store) -> None:
    _source(store)
    store.record_poll(PollRecord("s1", NOW, "new", NOW, etag='"e"', last_modified="lm"))
    for _ in range(3):
        store.record_poll(PollRecord("s1", NOW, "error", NOW + timedelta(minutes=1),
                                     error="HTTP 500"))
    state = store.source_state("s1")
    assert state.error_count == 3 and state.etag == '"e"' and state.last_modified == "lm"
    store.record_poll(PollRecord("s1", NOW, "not_modified", NOW, keep_validators=True))
    assert store.source_state("s1").error_count == 0
    assert store.source_state("s1").etag == '"e"'


def test_sync_sources_keeps_history_on_rename_and_disables_removed(store: Store) -> None:
    _source(store, "s1")
    _source(store, "s2")
    store.record_poll(PollRecord("s1", NOW, "new", NOW, new_items=(_item("a"),), etag='"e"'))
    store.sync_sources([SourceRecord("s1", "Renamed", "feed", "http://x.org/feed", "en", "X",
                                     "topic", 900.0)], NOW)
    rows = {r["id"]: r for r in sql(store, "SELECT * FROM sources")}
    assert rows["s1"]["name"] == "Renamed" and rows["s1"]["etag"] == '"e"'
    assert rows["s2"]["enabled"] == 0
    assert store.source_ids() == ["s1"]


def test_unique_entry_key_per_source_is_enforced(store: Store) -> None:
    _source(store)
    store.record_poll(PollRecord("s1", NOW, "new", NOW, new_items=(_item("a"),)))
    with pytest.raises(sqlite3.IntegrityError):
        store._conn.execute("INSERT INTO items (source_id, entry_key, outlet, first_seen_at, "
                           "status) VALUES ('s1', 'a', 'X', 'x', 'ok')")


def test_known_entries_by_key_guid_or_link(store: Store) -> None:
    _source(store)
    store.record_poll(PollRecord("s1", NOW, "new", NOW, new_items=(_item("a"),)))
    assert store.known_entries("s1", ["a"], [], [])
    assert store.known_entries("s1", [], ["a"], [])
    assert store.known_entries("s1", [], [], ["https://x.org/a"])
    assert not store.known_entries("s1", ["zz"], ["zz"], ["https://x.org/zz"])


def test_readme_documents_every_table_and_column(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The database", 1)[1]
    store = Store.open(tmp_path / "doc.db", busy_timeout=1.0)
    try:
        tables = [r[0] for r in store._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'items_fts_%' "
            "AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            assert f"`{table}`" in section, f"table {table} not documented"
            for (_, column, *_rest) in store._conn.execute(f"PRAGMA table_info({table})"):
                if table != "items_fts" and column != "id":
                    assert f"`{column}`" in section, f"{table}.{column} not documented"
    finally:
        store.close()
