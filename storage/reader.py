"""Read-only queries behind the web reader (`monitor web`): stories, one story, search.

The reader opens the database with SQLite's ``mode=ro`` URI and ``PRAGMA query_only``, so no
page can write, whatever a query says. Results are frozen record types; the web layer renders
them. The possible band (`item_topics.state = 'possible'`, migration 0007) and related
stories (`story_links`, migration 0012) are read only when the file has them, so a database the
daemon has not migrated yet still opens.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storage.errors import NotFound, StorageError

POSSIBLE = "possible"


def open_readonly(path: Path | str, busy_timeout: float = 5.0) -> sqlite3.Connection:
    """A connection that cannot write (``mode=ro`` and ``query_only``); Row factory set."""
    target = Path(path)
    if not target.exists():
        raise StorageError(f"no database at {target}")
    uri = f"file:{quote(str(target.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {target} read-only: {exc}") from None
    return conn


@dataclass(frozen=True)
class TopicReason:
    topic: str
    score: float
    matched: tuple[str, ...]
    possible: bool = False


@dataclass(frozen=True)
class StorySummary:
    id: int
    headline: str
    first_seen_at: str
    first_outlet: str
    outlet_count: int
    item_count: int
    languages: str
    language: str | None
    agency: str | None
    topics: tuple[TopicReason, ...] = ()


@dataclass(frozen=True)
class StoryFilter:
    topic: str | None = None
    language: str | None = None
    outlet: str | None = None
    since: str | None = None
    page: int = 1
    per_page: int = 30


@dataclass(frozen=True)
class StoryList:
    stories: tuple[StorySummary, ...]
    possible: tuple[StorySummary, ...]
    has_next: bool
    has_band: bool


@dataclass(frozen=True)
class Sighting:
    item_id: int
    outlet: str
    source_id: str
    first_seen_at: str
    published_at: str | None
    url: str | None
    match_kind: str | None
    similarity: float | None
    agency: str | None
    language: str | None
    title: str
    status: str
    removed_at: str | None
    removed_detail: str | None


@dataclass(frozen=True)
class Version:
    item_id: int
    outlet: str
    title: str
    replaced_at: str
    reason: str
    chars: int


@dataclass(frozen=True)
class StoryEvent:
    at: str
    kind: str
    item_id: int | None
    other_story_id: int | None
    detail: str | None


@dataclass(frozen=True)
class Related:
    id: int
    headline: str
    language: str | None
    relation: str


@dataclass(frozen=True)
class StoryDetail:
    summary: StorySummary
    title: str
    text: str
    text_language: str | None
    url: str | None
    sightings: tuple[Sighting, ...]
    versions: tuple[Version, ...]
    events: tuple[StoryEvent, ...]
    related: tuple[Related, ...]


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def band_column(conn: sqlite3.Connection) -> str | None:
    """`state`, the column of item_topics holding the possible band, if the file has it."""
    return "state" if "state" in table_columns(conn, "item_topics") else None


def _confirmed(band: str | None, alias: str = "t") -> str:
    return f" AND coalesce({alias}.{band}, '') != '{POSSIBLE}'" if band else ""


def _story_where(f: StoryFilter, band: str | None) -> tuple[str, list[Any]]:
    where, params = ["1"], []
    if f.since:
        where.append("s.first_seen_at >= ?")
        params.append(f.since)
    if f.language:
        where.append("(',' || s.languages || ',') LIKE ?")
        params.append(f"%,{f.language},%")
    if f.outlet:
        where.append("EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND i.outlet = ?)")
        params.append(f.outlet)
    if f.topic:
        where.append("EXISTS (SELECT 1 FROM items i JOIN item_topics t ON t.item_id = i.id "
                     f"WHERE i.story_id = s.id AND t.topic = ?{_confirmed(band)})")
        params.append(f.topic)
    return " AND ".join(where), params


def _only_possible(band: str) -> str:
    return (f"(EXISTS (SELECT 1 FROM items i JOIN item_topics t ON t.item_id = i.id "
            f"WHERE i.story_id = s.id AND t.{band} = '{POSSIBLE}') AND NOT EXISTS (SELECT 1 "
            f"FROM items i JOIN item_topics t ON t.item_id = i.id WHERE i.story_id = s.id"
            f"{_confirmed(band)}))")


# Below this many `possible` rows the band is read from them (the partial index
# item_topics_possible, migration 0013); above it, walking the stories newest first finds 20
# possible-only ones soon. Walking a file with almost no possible rows visited every story.
SPARSE_POSSIBLE = 1000
_POSSIBLE_STORIES = (f"SELECT i.story_id FROM item_topics t JOIN items i ON i.id = t.item_id "
                     f"WHERE t.state = '{POSSIBLE}'")

_SUMMARY_SQL = (
    "SELECT s.id, s.headline, s.first_seen_at, s.first_outlet, s.outlet_count, s.item_count, "
    "s.languages, s.agency, (SELECT r.language FROM items r WHERE r.id = "
    "coalesce(s.representative_item_id, s.first_item_id)) AS language FROM stories s ")


def story_list(conn: sqlite3.Connection, f: StoryFilter) -> StoryList:
    """One page of stories, newest first; the `possible` band apart (page 1 only)."""
    band = band_column(conn)
    where, params = _story_where(f, band)
    main = where + (f" AND NOT {_only_possible(band)}" if band else "")
    offset = (max(f.page, 1) - 1) * f.per_page
    rows = conn.execute(
        f"{_SUMMARY_SQL}WHERE {main} ORDER BY s.first_seen_at DESC, s.id DESC LIMIT ? OFFSET ?",
        [*params, f.per_page + 1, offset]).fetchall()
    possible: list[sqlite3.Row] = []
    if band and f.page <= 1 and not f.topic:
        possible = _possible_band(conn, where, params, band)
    shown = rows[:f.per_page]
    topics = story_topics(conn, [r["id"] for r in [*shown, *possible]], band)
    return StoryList(
        stories=tuple(_summary(r, topics) for r in shown),
        possible=tuple(_summary(r, topics) for r in possible),
        has_next=len(rows) > f.per_page, has_band=band is not None)


def _possible_band(conn: sqlite3.Connection, where: str, params: list[Any],
                   band: str) -> list[sqlite3.Row]:
    """The newest 20 stories whose topic rows are all `possible`."""
    rows = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM item_topics WHERE {band} = "
                        f"'{POSSIBLE}' LIMIT {SPARSE_POSSIBLE + 1})").fetchone()[0]
    among = f"s.id IN ({_POSSIBLE_STORIES}) AND " if rows <= SPARSE_POSSIBLE else ""
    return conn.execute(f"{_SUMMARY_SQL}WHERE {among}{where} AND {_only_possible(band)} "
                        "ORDER BY s.first_seen_at DESC, s.id DESC LIMIT 20", params).fetchall()


def _summary(r: sqlite3.Row, topics: dict[int, tuple[TopicReason, ...]]) -> StorySummary:
    return StorySummary(
        id=r["id"], headline=r["headline"], first_seen_at=r["first_seen_at"],
        first_outlet=r["first_outlet"], outlet_count=r["outlet_count"],
        item_count=r["item_count"], languages=r["languages"] or "", language=r["language"],
        agency=r["agency"], topics=topics.get(r["id"], ()))


def _terms(raw: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value)


def story_topics(conn: sqlite3.Connection, story_ids: list[int],
                 band: str | None) -> dict[int, tuple[TopicReason, ...]]:
    """Per story, each topic once: its best-scoring item's score and matched terms."""
    if not story_ids:
        return {}
    marks = ",".join("?" * len(story_ids))
    band_sql = f"t.{band}" if band else "NULL"
    rows = conn.execute(
        f"SELECT i.story_id, t.topic, t.score, t.matched, {band_sql} AS band FROM items i "
        f"JOIN item_topics t ON t.item_id = i.id WHERE i.story_id IN ({marks}) "
        "ORDER BY i.story_id, t.topic, t.score DESC", story_ids).fetchall()
    best: dict[int, dict[str, TopicReason]] = {}
    for r in rows:
        per = best.setdefault(r["story_id"], {})
        reason = TopicReason(r["topic"], r["score"], _terms(r["matched"]),
                             r["band"] == POSSIBLE)
        old = per.get(r["topic"])
        if old is None or (old.possible and not reason.possible):
            per[r["topic"]] = reason
    return {sid: tuple(per.values()) for sid, per in best.items()}


def story(conn: sqlite3.Connection, story_id: int) -> StoryDetail:
    row = conn.execute(f"{_SUMMARY_SQL}WHERE s.id = ?", (story_id,)).fetchone()
    if row is None:
        raise NotFound(f"no story {story_id}")
    summary = _summary(row, story_topics(conn, [story_id], band_column(conn)))
    rep = conn.execute(
        "SELECT i.title, i.text, i.summary, i.language, i.url FROM stories s JOIN items i "
        "ON i.id = coalesce(s.representative_item_id, s.first_item_id) WHERE s.id = ?",
        (story_id,)).fetchone()
    sightings = tuple(Sighting(**dict(r)) for r in conn.execute(
        "SELECT id AS item_id, outlet, source_id, first_seen_at, published_at, url, match_kind, "
        "similarity, agency, language, title, status, removed_at, removed_detail FROM items "
        "WHERE story_id = ? ORDER BY id != (SELECT coalesce(first_item_id, 0) FROM stories "
        "WHERE id = ?), first_seen_at, id", (story_id, story_id)))
    versions = tuple(Version(**dict(r)) for r in conn.execute(
        "SELECT v.item_id, i.outlet, v.title, v.replaced_at, v.reason, "
        "length(coalesce(v.text, '')) AS chars "
        "FROM item_versions v JOIN items i ON i.id = v.item_id WHERE i.story_id = ? "
        "ORDER BY v.replaced_at", (story_id,)))
    events = tuple(StoryEvent(**dict(r)) for r in conn.execute(
        "SELECT at, kind, item_id, other_story_id, detail FROM story_events "
        "WHERE story_id = ? OR other_story_id = ? ORDER BY at", (story_id, story_id)))
    return StoryDetail(
        summary=summary, title=rep["title"] if rep else summary.headline,
        text=(rep["text"] or rep["summary"] or "") if rep else "",
        text_language=rep["language"] if rep else None, url=rep["url"] if rep else None,
        sightings=sightings, versions=versions, events=events,
        related=related(conn, story_id))


def related(conn: sqlite3.Connection, story_id: int) -> tuple[Related, ...]:
    """Stories linked to this one in `story_links` (either direction), if the file has it."""
    if not table_columns(conn, "story_links"):
        return ()
    rows = conn.execute(
        "SELECT s.id, s.headline, l.kind AS relation, (SELECT r.language FROM items r "
        "WHERE r.id = coalesce(s.representative_item_id, s.first_item_id)) AS language "
        "FROM story_links l JOIN stories s ON s.id = CASE WHEN l.story_id = :id "
        "THEN l.other_story_id ELSE l.story_id END "
        "WHERE (l.story_id = :id OR l.other_story_id = :id) AND s.id != :id "
        "ORDER BY s.first_seen_at DESC LIMIT 20", {"id": story_id}).fetchall()
    return tuple(Related(r["id"], r["headline"], r["language"], str(r["relation"] or ""))
                 for r in rows)


def filter_choices(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Values offered by the filters: languages and outlets (from the small sources table)."""
    def col(sql: str) -> list[str]:
        return [r[0] for r in conn.execute(sql) if r[0]]

    return {
        "languages": col("SELECT DISTINCT language FROM sources ORDER BY language"),
        "outlets": col("SELECT DISTINCT outlet FROM sources ORDER BY outlet"),
    }


def known_topics(conn: sqlite3.Connection) -> list[str]:
    """Topics present in the data (used when the reader was given no topics file)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT topic FROM item_topics ORDER BY topic")]
