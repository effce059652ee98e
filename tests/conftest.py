"""Shared fixtures: a loopback HTTP server, a configuration written to a temp folder, a store."""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.configuration.settings import Settings, load_settings
from monitor.configuration.sources import load_topics
from monitor.matching.topics import TopicsConfig
from storage import Store
from tests.server import TestServer

REPO = Path(__file__).resolve().parents[1]

FAST_MONITOR_TOML = """\
[database]
path = "test.db"
busy_timeout = "2s"

[polling]
interval = "5m"
min_interval = "1s"
error_backoff_base = "1s"

[fetch]
allow_networks = {allow}
host_spacing = "0s"
connect_timeout = "1s"
read_timeout = "1s"
deadline = "{deadline}"
max_wire_bytes = "{max_wire}"
max_decoded_bytes = "{max_decoded}"

[extraction]
workers = 2
timeout = "{extract_timeout}"
parse_timeout = "5s"
{extra}
"""


def source_toml(id: str, url: str, *, kind: str = "feed", language: str = "en",
                outlet: str | None = None, scope: str = "topic") -> str:
    return textwrap.dedent(f"""\
        [[source]]
        id = "{id}"
        name = "{id.title()}"
        kind = "{kind}"
        url = "{url}"
        language = "{language}"
        outlet = "{outlet or id.title()}"
        scope = "{scope}"
        """)


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer() as s:
        yield s


MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Write monitor/sources/topics TOML into tmp_path and load them (fast timeouts)."""

    def make(sources: str = "", *, allow: str = '["127.0.0.0/8"]', deadline: str = "3s",
             max_wire: str = "1MiB", max_decoded: str = "4MiB", extract_timeout: str = "5s",
             extra: str = "", env: dict[str, str] | None = None) -> Settings:
        (tmp_path / "monitor.toml").write_text(FAST_MONITOR_TOML.format(
            allow=allow, deadline=deadline, max_wire=max_wire, max_decoded=max_decoded,
            extract_timeout=extract_timeout, extra=extra), encoding="utf-8")
        (tmp_path / "sources.toml").write_text(sources, encoding="utf-8")
        (tmp_path / "topics.toml").write_bytes((REPO / "config" / "topics.toml").read_bytes())
        return load_settings(tmp_path / "monitor.toml", env=env or {})

    return make


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "store.db")
    yield s
    s.close()


def sql(store: Store, query: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    """Read the store's file as a user would, on a connection of its own (the Store exposes
    no connection and no raw queries)."""
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(query, params))
    finally:
        conn.close()


@pytest.fixture(scope="session")
def reader_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's database (real pipeline, run once per session) plus hostile stories.
    Tests must not change it."""
    from tests.web_data import add_hostile_stories, demo_database

    db = demo_database(tmp_path_factory.mktemp("reader"))
    add_hostile_stories(db)
    return db


def rules_only_topics(tmp_path: Path, text: str) -> TopicsConfig:
    """A topics.toml of `text` loaded as the daemon loads it, with no trained model."""
    path = tmp_path / "topics.toml"
    path.write_text(text, "utf-8")
    problems: list[str] = []
    cfg = load_topics(path, problems)
    assert problems == []
    return replace(cfg, models=())
