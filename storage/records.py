"""Record types the Store speaks. Plain frozen dataclasses; datetimes are timezone-aware UTC.
The matching ones are defined in storage.match_records, the query ones in storage.query_records,
and both are re-exported here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from storage.match_records import Candidate as Candidate
from storage.match_records import Fingerprint as Fingerprint
from storage.match_records import LinkCandidate as LinkCandidate
from storage.match_records import LinkDecision as LinkDecision
from storage.match_records import MatchDecision as MatchDecision
from storage.match_records import RelatedFeatures as RelatedFeatures
from storage.match_records import StoryLink as StoryLink
from storage.match_records import StoryLinker as StoryLinker
from storage.match_records import StoryMatcher as StoryMatcher
from storage.query_records import DayCount as DayCount
from storage.query_records import ExportRow as ExportRow
from storage.query_records import OutletCount as OutletCount
from storage.query_records import SearchHit as SearchHit
from storage.query_records import Sighting as Sighting
from storage.query_records import Stats as Stats
from storage.query_records import StoryDetail as StoryDetail
from storage.query_records import StoryListing as StoryListing
from storage.query_records import TableCounts as TableCounts
from storage.query_records import TopicCount as TopicCount


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 with second precision and a Z: the one timestamp format of the database."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ISO_SHAPE = ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "Z"))


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    if len(value) == 20 and all(value[k] == c for k, c in _ISO_SHAPE):
        # the format `iso` writes: fromisoformat is ~10x cheaper than strptime (4 per poll)
        return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class SourceRecord:
    """A source as configured; `Store.sync_sources` makes the table match the configuration."""

    id: str
    name: str
    kind: str
    url: str
    language: str
    outlet: str
    scope: str
    interval_seconds: float
    enabled: bool = True
    affiliation: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class SourceState:
    """What a source run needs to know from earlier runs."""

    id: str
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    error_count: int
    next_check_at: datetime
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None = None
    publish_gap_s: float | None = None


@dataclass(frozen=True)
class KnownEntry:
    """An entry already stored for a source (matched by entry key, GUID or canonical link)."""

    item_id: int
    entry_key: str
    guid: str | None
    canonical_url: str | None
    feed_hash: str | None
    updated_at: datetime | None
    title: str
    status: str
    fetch_attempts: int = 0


@dataclass(frozen=True)
class FetchLog:
    purpose: str  # feed | page | article
    url: str
    started_at: datetime
    duration_ms: int
    status: int | None
    outcome: str  # ok | not_modified | error
    bytes: int | None = None
    conditional: bool = False
    error: str | None = None


@dataclass(frozen=True)
class StoredText:
    """An article another source already downloaded (found by its canonical URL)."""

    item_id: int
    source_id: str
    canonical_url: str
    title: str
    text: str | None
    author: str | None
    published_at: datetime | None
    language: str | None
    status: str
    declared_canonical_url: str | None
    agency: str | None


@dataclass(frozen=True)
class StoredPage:
    """An article page kept in `raw_pages`, with what re-extraction needs of its item."""

    item_id: int
    outlet: str
    title: str
    language: str | None
    url: str
    content_type: str | None
    html: bytes


@dataclass(frozen=True)
class RawPage:
    url: str
    fetched_at: datetime
    content_type: str | None
    encoding: str | None
    html: bytes  # stored zlib-compressed


@dataclass(frozen=True)
class ItemContent:
    """The text side of an item: what extraction (or the feed) gave."""

    title: str
    text: str | None
    author: str | None
    published_at: datetime | None
    language: str | None
    status: str  # ok | fallback | timeout | empty | error | skipped
    status_detail: str | None = None
    date_note: str | None = None
    declared_canonical_url: str | None = None
    agency: str | None = None
    fetch_attempts: int = 0
    fetched_at: datetime | None = None
    raw: RawPage | None = None
    search_title: str = ""  # normalised forms for FTS
    search_text: str = ""


@dataclass(frozen=True)
class Placement:
    """Where an item stands right after story assignment, inside the write transaction: the
    facts a `PollPolicy` decides on."""

    story_id: int
    item_id: int
    new_story: bool
    outlet_count: int
    muted: bool
    related_to: int | None = None  # an earlier story this new one is linked to (story_links)
    related_channels: tuple[str, ...] = ()  # the channels on which that story alerted


class PollPolicy(Protocol):
    """The monitor's decisions inside `Store.record_poll`: which alerts a placed item queues,
    which pickup roll-ups its story has reached, when it is first revisited. Storage writes
    what it is told; without a policy it queues the alerts as requested and nothing else."""

    def story_alerts(self, placed: Placement,
                     wanted: tuple[AlertRequest, ...]) -> tuple[AlertRequest, ...]: ...

    def rollups(self, placed: Placement) -> tuple[int, ...]: ...

    def first_revisit(self, placed: Placement, now: datetime) -> datetime | None: ...

    def related_rollup(self, placed: Placement) -> bool:
        """Whether a story linked to an earlier one that alerted rolls up into it."""
        ...


@dataclass(frozen=True)
class TopicHit:
    topic: str
    score: float  # the rule's score (distinct matched spellings, title ones weighted)
    matched: tuple[str, ...]
    state: str = "match"  # or "possible": just below the topic's threshold, never alerts now
    probability: float | None = None  # the model's, when the topic has one
    evidence: tuple[str, ...] = ()  # the model's strongest evidence, in plain words
    reason: str = ""  # why, in one line: see monitor.matching.reasons


@dataclass(frozen=True)
class AlertRequest:
    """An item matched an alert rule for a channel; the story alerts there once."""

    channel: str
    due_at: datetime  # now for immediate channels, the next digest time otherwise
    rule: str
    digest: bool = False


@dataclass(frozen=True)
class ItemRefresh:
    """An item's content extracted again (a revisit, or `reextract` over stored HTML): title,
    text, search forms, language, topics and dedup signature are replaced together.
    `keep_version`: the old title and text go to `item_versions` with `reason` when they
    differ (a publisher's change; a re-extraction is the monitor's own and keeps none)."""

    item_id: int
    title: str
    text: str
    language: str
    search_title: str
    search_text: str
    agency: str | None
    topics: tuple[TopicHit, ...]
    fingerprint: Fingerprint | None
    reason: str
    keep_version: bool = True


@dataclass(frozen=True)
class NewItem:
    entry_key: str
    guid: str | None
    url: str | None
    canonical_url: str | None
    outlet: str
    summary: str | None
    updated_at: datetime | None
    feed_hash: str | None
    content: ItemContent
    fingerprint: Fingerprint | None = None
    topics: tuple[TopicHit, ...] = ()
    alerts: tuple[AlertRequest, ...] = ()
    related: RelatedFeatures | None = None  # only for items that passed the topic stage


@dataclass(frozen=True)
class ItemRevision:
    """A known item whose feed entry changed: new content replaces the old, which is versioned."""

    item_id: int
    feed_hash: str | None
    updated_at: datetime | None
    content: ItemContent
    reason: str
    fingerprint: Fingerprint | None = None
    topics: tuple[TopicHit, ...] = ()
    alerts: tuple[AlertRequest, ...] = ()
    related: RelatedFeatures | None = None  # only for items that passed the topic stage


@dataclass(frozen=True)
class PollRecord:
    """Everything one source run writes, applied in a single transaction."""

    source_id: str
    checked_at: datetime
    outcome: str
    next_check_at: datetime
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error: str | None = None
    problem: str | None = None  # a tolerated defect (e.g. truncated XML): noted, not counted
    publish_gap_s: float | None = None  # smoothed gap between new items, when it changed
    fetches: tuple[FetchLog, ...] = ()
    new_items: tuple[NewItem, ...] = ()
    revisions: tuple[ItemRevision, ...] = ()
    keep_validators: bool = False  # error/304 runs keep the stored ETag/Last-Modified


@dataclass(frozen=True)
class PollSummary:
    new_item_ids: tuple[int, ...] = ()
    new_story_ids: tuple[int, ...] = ()
    revised_item_ids: tuple[int, ...] = ()
    copies: int = 0  # new items that joined an existing story
    joined_story_ids: tuple[int, ...] = ()  # existing stories that gained an item
    alerts: int = 0  # alert rows queued by this run (stories and roll-ups)


@dataclass(frozen=True)
class StoryRow:
    id: int
    headline: str
    first_seen_at: str
    first_outlet: str
    item_count: int
    outlet_count: int
    languages: str
    agency: str | None
    outlets: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class AlertRow:
    """One outbox row with what a channel needs to render it."""

    id: int
    story_id: int
    item_id: int | None
    channel: str
    kind: str  # story | pickup:N | test
    state: str
    attempts: int
    created_at: str
    next_attempt_at: str
    sent_at: str | None
    last_error: str | None
    payload: str
    digest: bool
    headline: str = ""
    url: str | None = None
    outlets: tuple[str, ...] = ()
    outlet_count: int = 0
    agency: str | None = None
    first_outlet: str = ""
    first_seen_at: str = ""
    language: str | None = None
    topics: tuple[TopicHit, ...] = ()
    story_url: str | None = None  # the story's page in the web reader, when web.base_url is set
    text: str = ""  # the start of the story's stored text (the message's lede comes from it)
    published_at: str | None = None
    digest_reason: str = ""  # set by the dispatcher: why these rows go out as one message

