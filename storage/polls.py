"""One source run written: the fetch log, new items and revisions, story assignment (one
path for new items and revised skipped entries), topics, what the policy queues, and the
source's poll state. `Store.record_poll` runs it in one write transaction."""

from __future__ import annotations

import sqlite3
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from storage import boilerplate, links, outbox, revisits, stories
from storage.errors import NotFound
from storage.records import (
    AlertRequest,
    ItemContent,
    ItemRevision,
    NewItem,
    Placement,
    PollPolicy,
    PollRecord,
    PollSummary,
    StoryLinker,
    StoryMatcher,
    iso,
)

LINK_WINDOW = timedelta(hours=36)  # related coverage is looked for among stories this recent

# Raw article HTML is compressed in the write transaction, on the monitor's event loop. Level 1
# against 6, measured on 63 KB news pages: 0.25 against 0.65 ms per page, for 12.5 against
# 10.9 KB stored (+15 %); the pages are kept for `raw_html_retention` (30 days) only.
RAW_ZLIB_LEVEL = 1


def record_poll(conn: sqlite3.Connection, record: PollRecord, matcher: StoryMatcher | None,
                window: timedelta, policy: PollPolicy | None,
                linker: StoryLinker | None = None) -> PollSummary:
    """Write one source run — items, stories, fetch log, source state — inside the caller's
    transaction.

    Each item with text that has no story yet (a new item, or a revision of one the gate
    had skipped) joins the story it copies (same URL, same body, or a near copy as judged by
    ``matcher`` among stories first seen within ``window``) or starts one: one path for both.
    A new story whose first item passed the topic stage is linked to related earlier stories
    by ``linker`` (storage.links). What it then queues (alerts, roll-ups, revisits) is the
    ``policy``'s decision.
    """
    run = _Run(record, matcher, record.checked_at - window, policy, linker)
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
        item_id = _insert_item(conn, record.source_id, item, record.checked_at)
        run.new_ids.append(item_id)
        if item.content.status != "skipped":
            run.place(conn, item_id, item.outlet, item,
                      (item.canonical_url, item.content.declared_canonical_url))
    for rev in record.revisions:
        _revise(conn, run, rev)
    _update_source(conn, record, bool(run.new_ids))
    return run.summary()


def _revise(conn: sqlite3.Connection, run: _Run, rev: ItemRevision) -> None:
    now = run.record.checked_at
    placed = _revise_item(conn, rev.item_id, rev.content, rev.feed_hash,
                               rev.updated_at, rev.reason, now)
    run.revised.append(rev.item_id)
    if rev.content.status == "skipped":
        return
    if placed.story_id is None:  # a skipped entry that now has text: placed like a new one
        run.place(conn, rev.item_id, placed.outlet, rev,
                  (placed.canonical_url, rev.content.declared_canonical_url))
        return
    if rev.fingerprint is not None and run.matcher is not None:
        stories.update_signature(conn, rev.item_id, rev.fingerprint, run.matcher, now)
    outbox.write_topics(conn, rev.item_id, rev.topics)
    story = stories.placement(conn, placed.story_id, rev.item_id, new_story=False)
    run.queued += outbox.enqueue(conn, placed.story_id, rev.item_id,
                                 run.alerts_for(story, rev.alerts), now)


def _update_source(conn: sqlite3.Connection, r: PollRecord, has_new: bool) -> None:
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


def _insert_item(conn: sqlite3.Connection, source_id: str, item: NewItem,
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
    _write_search_and_raw(conn, item_id, c)
    return item_id


def _write_search_and_raw(conn: sqlite3.Connection, item_id: int,
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


def _revise_item(conn: sqlite3.Connection, item_id: int, c: ItemContent,
                 feed_hash: str | None, updated_at: datetime | None, reason: str,
                 now: datetime) -> _Placed:
    old = conn.execute("SELECT title, text, published_at, status, story_id, outlet, "
                       "canonical_url FROM items WHERE id = ?", (item_id,)).fetchone()
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
    _write_search_and_raw(conn, item_id, c)
    if old["story_id"] is not None:
        conn.execute("UPDATE stories SET headline = ?, last_seen_at = ? "
                     "WHERE id = ? AND representative_item_id = ?",
                     (c.title, iso(now), old["story_id"], item_id))
    return _Placed(old["story_id"], old["outlet"], old["canonical_url"])


@dataclass(frozen=True)
class _Placed:
    """Where a revised item stood before the revision."""

    story_id: int | None
    outlet: str
    canonical_url: str | None


@dataclass
class _Run:
    """What one `record_poll` transaction has written so far."""

    record: PollRecord
    matcher: StoryMatcher | None
    since: datetime
    policy: PollPolicy | None
    linker: StoryLinker | None = None
    new_ids: list[int] = field(default_factory=list)
    story_ids: list[int] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)
    revised: list[int] = field(default_factory=list)
    queued: int = 0

    def place(self, conn: sqlite3.Connection, item_id: int, outlet: str,
              item: NewItem | ItemRevision, urls: tuple[str | None, ...]) -> None:
        """The one story assignment: join or start a story, then its topics, the alerts,
        roll-ups and revisit the policy asks for, and the outlet's boilerplate counts."""
        now, c = self.record.checked_at, item.content
        a = stories.assign(conn, item_id, outlet, c, urls, item.fingerprint, self.matcher, now,
                           self.since)
        (self.story_ids if a.new_story else self.joined).append(a.story_id)
        outbox.write_topics(conn, item_id, item.topics)
        placed = self._related(conn, a.new_story,
                               stories.placement(conn, a.story_id, item_id,
                                                 new_story=a.new_story), item)
        added = outbox.enqueue(conn, a.story_id, item_id, self.alerts_for(placed, item.alerts),
                               now)
        revisit = self.policy.first_revisit(placed, now) if added and self.policy else None
        if revisit is not None:
            revisits.schedule_first(conn, item_id, revisit)
        self.queued += added
        if not a.new_story and self.policy is not None:
            self.queued += outbox.rollups(conn, a.story_id, self.policy.rollups(placed), now)
        if item.fingerprint is not None:
            boilerplate.count_lines(conn, outlet, item.fingerprint.line_hashes, now)

    def _related(self, conn: sqlite3.Connection, new_story: bool, placed: Placement,
                 item: NewItem | ItemRevision) -> Placement:
        """A new story linked to an earlier one that alerted: rolled up into it (if the
        policy says so), and its placement says where, so the policy does not alert it anew."""
        if not new_story or item.related is None or self.linker is None:
            return placed
        now = self.record.checked_at
        earlier = links.link(conn, placed.story_id, placed.item_id, item.related, self.linker,
                             now, now - LINK_WINDOW)
        if earlier is None:
            return placed
        placed = replace(placed, related_to=earlier,
                         related_channels=links.alerted_channels(conn, earlier))
        if self.policy is not None and self.policy.related_rollup(placed):
            self.queued += links.rollup(conn, earlier, placed.story_id, placed.item_id, now)
        return placed

    def alerts_for(self, placed: Placement,
                   wanted: tuple[AlertRequest, ...]) -> tuple[AlertRequest, ...]:
        return wanted if self.policy is None else self.policy.story_alerts(placed, wanted)

    def summary(self) -> PollSummary:
        return PollSummary(tuple(self.new_ids), tuple(self.story_ids), tuple(self.revised),
                           copies=len(self.joined),
                           joined_story_ids=tuple(dict.fromkeys(self.joined)),
                           alerts=self.queued)


def _word_count(text: str | None) -> int:
    return len(text.split()) if text else 0
