"""Record types of the read-only queries behind `monitor search`, `stories`, `show`, `export`
and `stats` (storage.queries). Field order is column order: the commands print them, as JSON
or CSV, in that order. Timestamps stay the stored ISO-8601 strings, as printed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHit:
    """One item matching a full-text search; `snippet` is cut from the search form (the
    command cuts a better one from the text as published)."""

    id: int
    story_id: int | None
    first_seen_at: str
    outlet: str
    language: str | None
    title: str
    url: str | None
    snippet: str | None
    rank: float
    source_id: str


@dataclass(frozen=True)
class StoryListing:
    """A story as `monitor stories` lists it: topics and affiliations comma-joined."""

    id: int
    first_seen_at: str
    first_outlet: str
    outlet_count: int
    item_count: int
    agency: str | None
    headline: str
    topics: str | None
    first_affiliation: str | None
    affiliations: str | None


@dataclass(frozen=True)
class Sighting:
    """One item of a story, for `monitor show`; `topic_hits` is the JSON array of its topic
    rows (monitor.matching.reasons.hits_of reads it)."""

    id: int
    first_seen_at: str
    outlet: str
    source_id: str
    match_kind: str | None
    similarity: float | None
    agency: str | None
    language: str | None
    title: str
    url: str | None
    status: str
    removed_at: str | None
    affiliation: str | None
    country: str | None
    topic_hits: str | None


@dataclass(frozen=True)
class StoryDetail:
    """One story and its sightings, earliest first."""

    id: int
    headline: str
    first_seen_at: str
    last_seen_at: str
    first_item_id: int | None
    first_outlet: str
    representative_item_id: int | None
    item_count: int
    outlet_count: int
    languages: str
    agency: str | None
    sightings: tuple[Sighting, ...] = ()


@dataclass(frozen=True)
class ExportRow:
    """One item as `monitor export` writes it; the fields are the export's columns, in order."""

    id: int
    story_id: int | None
    source_id: str
    outlet: str
    first_seen_at: str
    published_at: str | None
    language: str | None
    title: str
    url: str | None
    canonical_url: str | None
    agency: str | None
    match_kind: str | None
    status: str
    topics: str | None
    related: str | None
    text: str | None


@dataclass(frozen=True)
class DayCount:
    day: str
    items: int
    stories: int
    copies_saved: int


@dataclass(frozen=True)
class OutletCount:
    outlet: str
    items: int
    first: int
    copies: int


@dataclass(frozen=True)
class TopicCount:
    topic: str
    items: int
    stories: int


@dataclass(frozen=True)
class Stats:
    """`monitor stats`: per day, per outlet and per topic, each a table in its own order."""

    per_day: tuple[DayCount, ...]
    per_outlet: tuple[OutletCount, ...]
    per_topic: tuple[TopicCount, ...]


@dataclass(frozen=True)
class TableCounts:
    """Rows in the main tables, for the demo's summary."""

    sources: int
    items: int
    stories: int
    fetches: int
    item_versions: int
    alerts: int
