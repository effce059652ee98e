"""Read-only queries behind the reader's search, trends and sources pages.

Search goes through `items_fts` like `monitor search`: the caller passes the query already
normalised (the same function builds it for both). The original title and text come back too,
so the page can show a snippet of the text as published, not of its normalised search form.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.queries import BadQuery
from storage.reader import POSSIBLE, band_column
from storage.records import iso

TEXT_FOR_SNIPPET = 20000  # characters of an item's text handed to the snippet builder


@dataclass(frozen=True)
class SearchHit:
    item_id: int
    story_id: int | None
    first_seen_at: str
    outlet: str
    language: str | None
    title: str
    text: str
    url: str | None


@dataclass(frozen=True)
class Count:
    key: str
    value: int


@dataclass(frozen=True)
class DailySeries:
    """Stories per day per topic: `days` oldest first, one count per day for each topic."""
    days: tuple[str, ...]
    series: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class LanguageVolume:
    language: str
    items: int
    stories: int


@dataclass(frozen=True)
class SourceRow:
    id: str
    name: str
    outlet: str
    kind: str
    language: str
    enabled: bool
    health: str
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    error_count: int
    next_check_at: str
    items_30d: int


def search(conn: sqlite3.Connection, match: str, *, limit: int = 20, offset: int = 0,
           language: str | None = None) -> list[SearchHit]:
    # rank first, on rowids alone, then read the texts of the page's rows only: selecting the
    # text in the ranking query would copy it for every match into the sorter
    join, extra, params = ("", "", []) if not language else (
        " JOIN items l ON l.id = items_fts.rowid", " AND l.language = ?", [language])
    sql = ("WITH top AS (SELECT items_fts.rowid AS id, bm25(items_fts) AS rank FROM items_fts"
           f"{join} WHERE items_fts MATCH ?{extra} ORDER BY rank LIMIT ? OFFSET ?) "
           "SELECT i.id AS item_id, i.story_id, i.first_seen_at, i.outlet, i.language, i.title, "
           f"substr(coalesce(i.text, i.summary, ''), 1, {TEXT_FOR_SNIPPET}) AS text, i.url "
           "FROM top JOIN items i ON i.id = top.id ORDER BY top.rank")
    try:
        rows = conn.execute(sql, [match, *params, limit, offset]).fetchall()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise
        raise BadQuery(f"not a valid search query: {exc}") from None
    return [SearchHit(**dict(r)) for r in rows]


def _day_range(now: datetime, days: int) -> tuple[str, ...]:
    start = now.date() - timedelta(days=days - 1)
    return tuple((start + timedelta(days=n)).isoformat() for n in range(days))


def stories_per_day(conn: sqlite3.Connection, now: datetime, days: int) -> DailySeries:
    band = band_column(conn)
    confirmed = f" AND coalesce(t.{band}, '') != '{POSSIBLE}'" if band else ""
    labels = _day_range(now, days)
    rows = conn.execute(
        "SELECT substr(s.first_seen_at, 1, 10) AS day, t.topic, count(DISTINCT s.id) AS n "
        "FROM stories s JOIN items i ON i.story_id = s.id JOIN item_topics t ON t.item_id = i.id "
        f"WHERE s.first_seen_at >= ?{confirmed} GROUP BY day, t.topic",
        (labels[0],)).fetchall()
    index = {d: n for n, d in enumerate(labels)}
    series: dict[str, list[int]] = {}
    for r in rows:
        if r["day"] in index:
            series.setdefault(r["topic"], [0] * days)[index[r["day"]]] = r["n"]
    return DailySeries(labels, {k: tuple(v) for k, v in sorted(series.items())})


def last_days(series: DailySeries, days: int) -> DailySeries:
    """The tail of a longer series: the 30-day chart comes out of the 90-day query."""
    return DailySeries(series.days[-days:], {k: v[-days:] for k, v in series.series.items()
                                             if any(v[-days:])})


def first_reporters(conn: sqlite3.Connection, since: str, limit: int = 15) -> list[Count]:
    return [Count(r[0], r[1]) for r in conn.execute(
        "SELECT first_outlet, count(*) AS n FROM stories WHERE first_seen_at >= ? "
        "GROUP BY first_outlet ORDER BY n DESC, first_outlet LIMIT ?", (since, limit))]


def language_volume(conn: sqlite3.Connection, since: str) -> list[LanguageVolume]:
    """Stories first seen since ``since`` and their sightings, per language (a story carried
    in both languages counts under 'en, fa'); from the stories table, which is small."""
    return [LanguageVolume((r[0] or "unknown").replace(",", ", "), r[1], r[2])
            for r in conn.execute(
                "SELECT languages, sum(item_count), count(*) FROM stories "
                "WHERE first_seen_at >= ? GROUP BY languages ORDER BY 3 DESC", (since,))]


def sources(conn: sqlite3.Connection, now: datetime) -> list[SourceRow]:
    # the count is a range of the covering index items_source_seen (migration 0010_reader)
    rows = conn.execute(
        "SELECT s.id, s.name, s.outlet, s.kind, s.language, s.enabled, s.health, "
        "s.last_success_at, s.last_error, s.last_error_at, s.error_count, s.next_check_at, "
        "(SELECT count(*) FROM items i WHERE i.source_id = s.id AND i.first_seen_at >= ?) "
        "AS items_30d FROM sources s ORDER BY s.outlet, s.id",
        (iso(now - timedelta(days=30)),)).fetchall()
    out = []
    for r in rows:
        d: dict[str, Any] = dict(r)
        d["enabled"] = bool(d["enabled"])
        out.append(SourceRow(**d))
    return out
