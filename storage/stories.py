"""Story assignment inside the write transaction: which story a new item belongs to.

Layers, cheapest first (DESIGN.md §3): (a) the same canonical URL, from the feed link or the
page's own rel=canonical/og:url, as an item already stored; (b) the same normalised body hash;
(c) a near-duplicate of any member of a story in the window, found through the LSH band index
and judged by the matcher the monitor passes in (which may read the candidates' stored texts to
verify). A story's first item, its representative and its `INDEXED_NEWEST` newest members are
in the band index: when a fuller copy becomes the representative, later copies of the story's
first text still find it (the story's anchor does not drift), and a story that keeps changing is
found through its latest texts. Older members leave the index as newer ones join, so a story
grown from thousands of near-identical copies offers a new item a bounded number of candidates
(at most INDEXED_NEWEST + 2, plus any former representative that was still representing when it
fell out of the newest ones), not one per member.

Story ids never change. A fuller copy may become the representative (recorded in
``story_events``); nothing here merges two stories.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.records import Candidate, Fingerprint, ItemContent, Placement, StoryMatcher, iso

MIN_EXACT_WORDS = 10  # an identical two-word body says nothing
INDEXED_NEWEST = 16  # newest members of a story kept in the band index (first and rep besides)


@dataclass(frozen=True)
class Assignment:
    story_id: int
    kind: str  # first | url | exact | near
    similarity: float
    new_story: bool


def assign(conn: sqlite3.Connection, item_id: int, outlet: str, c: ItemContent,
           urls: tuple[str | None, ...], fp: Fingerprint | None, matcher: StoryMatcher | None,
           now: datetime, since: datetime) -> Assignment:
    """Attach the item to a story (creating one if it is the first of its kind)."""
    found = _by_url(conn, item_id, urls, since)
    kind, similarity, make_rep = "url", 1.0, False
    if found is None and fp is not None and fp.word_count >= MIN_EXACT_WORDS:
        found = _by_text_hash(conn, item_id, fp.text_hash, since)
        kind = "exact"
    if found is None and fp is not None and fp.minhash is not None and matcher is not None:
        decision = matcher.choose(fp, _near_candidates(conn, fp, since), c.text)
        if decision is not None:
            found, kind = decision.story_id, "near"
            similarity, make_rep = decision.similarity, decision.make_representative
    if found is None:
        story_id = new_story(conn, item_id, outlet, c, now)
        if fp is not None:
            save_signature(conn, item_id, story_id, fp, now)
            index(conn, item_id, fp)
        return Assignment(story_id, "first", 1.0, True)
    conn.execute("UPDATE items SET story_id = ?, match_kind = ?, similarity = ? WHERE id = ?",
                 (found, kind, round(similarity, 4), item_id))
    if make_rep and fp is not None and matcher is not None:
        _make_representative(conn, found, item_id, c, fp, matcher, now)
    if fp is not None:
        save_signature(conn, item_id, found, fp, now)
        index_member(conn, found, item_id, fp, matcher)
    joined(conn, found, item_id, now, c.agency)
    return Assignment(found, kind, similarity, False)


def placement(conn: sqlite3.Connection, story_id: int, item_id: int, *,
              new_story: bool) -> Placement:
    """The facts about a story a policy decides on, right after an item joined it."""
    row = conn.execute("SELECT outlet_count, muted FROM stories WHERE id = ?",
                       (story_id,)).fetchone()
    return Placement(story_id, item_id, new_story, row["outlet_count"], bool(row["muted"]))


def refresh_story(conn: sqlite3.Connection, story_id: int, now: datetime,
                  agency: str | None = None) -> None:
    """Recount a story's items, distinct outlets and languages (over every member: a rebuild's
    detach; a member joining moves them by `joined`)."""
    conn.execute(
        """
        UPDATE stories SET
            item_count = (SELECT count(*) FROM items WHERE story_id = :id),
            outlet_count = (SELECT count(DISTINCT outlet) FROM items WHERE story_id = :id),
            languages = coalesce((SELECT group_concat(language, ',') FROM (
                SELECT DISTINCT language FROM items
                WHERE story_id = :id AND language IS NOT NULL ORDER BY language)), ''),
            last_seen_at = max(last_seen_at, :now),
            agency = coalesce(agency, :agency)
        WHERE id = :id
        """,
        {"id": story_id, "now": iso(now), "agency": agency},
    )


def joined(conn: sqlite3.Connection, story_id: int, item_id: int, now: datetime,
           agency: str | None = None) -> None:
    """A member joined: the story's counts moved by this item alone, as `refresh_story` would
    recount them over every member (one probe of items_story_outlet instead of a walk)."""
    known, language, new_outlet = conn.execute(
        "SELECT s.languages, i.language, NOT EXISTS (SELECT 1 FROM items m WHERE "
        "m.story_id = s.id AND m.outlet = i.outlet AND m.id != i.id) "
        "FROM stories s, items i WHERE s.id = ? AND i.id = ?", (story_id, item_id)).fetchone()
    languages = {*filter(None, known.split(",")), *filter(None, [language])}
    conn.execute(
        "UPDATE stories SET item_count = item_count + 1, outlet_count = outlet_count + ?, "
        "languages = ?, last_seen_at = max(last_seen_at, ?), agency = coalesce(agency, ?) "
        "WHERE id = ?", (new_outlet, ",".join(sorted(languages)), iso(now), agency, story_id))


def update_signature(conn: sqlite3.Connection, item_id: int, fp: Fingerprint,
                     matcher: StoryMatcher, now: datetime) -> None:
    """A revised item: replace its signature (and its bands, if its story is indexed)."""
    row = conn.execute("SELECT s.story_id, st.indexed FROM signatures s "
                       "JOIN stories st ON st.id = s.story_id WHERE s.item_id = ?",
                       (item_id,)).fetchone()
    if row is None:
        return
    unindex(conn, item_id, matcher)
    save_signature(conn, item_id, row["story_id"], fp, now)
    if row["indexed"] and item_id in kept_in_index(conn, row["story_id"])[0]:
        index(conn, item_id, fp)


def prune(conn: sqlite3.Connection, since: datetime, matcher: StoryMatcher) -> int:
    """Take stories first seen before `since` out of the band index; returns how many."""
    old = conn.execute("SELECT id FROM stories WHERE indexed = 1 AND first_seen_at < ?",
                       (iso(since),)).fetchall()
    for (story_id,) in old:
        for (member,) in conn.execute("SELECT item_id FROM signatures WHERE story_id = ?",
                                      (story_id,)).fetchall():
            unindex(conn, member, matcher)
        conn.execute("UPDATE stories SET indexed = 0 WHERE id = ?", (story_id,))
    return len(old)


# -- layers --------------------------------------------------------------------------------------


def _by_url(conn: sqlite3.Connection, item_id: int, urls: tuple[str | None, ...],
            since: datetime) -> int | None:
    wanted = sorted({u for u in urls if u})
    if not wanted:
        return None
    marks = ",".join("?" * len(wanted))
    row = conn.execute(
        f"SELECT i.story_id FROM items i JOIN stories s ON s.id = i.story_id "
        f"WHERE i.id != ? AND s.first_seen_at >= ? AND (i.canonical_url IN ({marks}) "
        f"OR i.declared_canonical_url IN ({marks})) ORDER BY i.id LIMIT 1",
        [item_id, iso(since), *wanted, *wanted]).fetchone()
    return int(row[0]) if row else None


def _by_text_hash(conn: sqlite3.Connection, item_id: int, text_hash: int,
                  since: datetime) -> int | None:
    row = conn.execute(
        "SELECT g.story_id FROM signatures g JOIN stories s ON s.id = g.story_id "
        "WHERE g.text_hash = ? AND g.item_id != ? AND s.first_seen_at >= ? "
        "ORDER BY g.item_id LIMIT 1", (text_hash, item_id, iso(since))).fetchone()
    return int(row[0]) if row else None


def _near_candidates(conn: sqlite3.Connection, fp: Fingerprint,
                     since: datetime) -> list[Candidate]:
    if not fp.bands:
        return []
    marks = ",".join("?" * len(fp.bands))
    rows = conn.execute(
        f"SELECT g.story_id, g.item_id, g.word_count, g.shingle_count, g.minhash, g.lead_minhash, "
        f"i.text, s.representative_item_id = g.item_id "
        f"FROM (SELECT DISTINCT item_id FROM lsh_bands WHERE band_key IN ({marks})) b "
        f"JOIN signatures g ON g.item_id = b.item_id JOIN items i ON i.id = g.item_id "
        f"JOIN stories s ON s.id = g.story_id "
        f"WHERE s.first_seen_at >= ?", [*fp.bands, iso(since)]).fetchall()
    return [Candidate(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]


# -- writes --------------------------------------------------------------------------------------


def new_story(conn: sqlite3.Connection, item_id: int, outlet: str, c: ItemContent,
               now: datetime) -> int:
    cur = conn.execute(
        "INSERT INTO stories (headline, first_seen_at, last_seen_at, first_item_id, "
        "first_outlet, representative_item_id, item_count, outlet_count, languages, agency) "
        "VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?, ?)",
        (c.title, iso(now), iso(now), item_id, outlet, item_id, c.language or "", c.agency),
    )
    story_id = int(cur.lastrowid or 0)
    conn.execute("UPDATE items SET story_id = ?, match_kind = 'first', similarity = 1.0 "
                 "WHERE id = ?", (story_id, item_id))
    return story_id


def save_signature(conn: sqlite3.Connection, item_id: int, story_id: int, fp: Fingerprint,
                    now: datetime) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO signatures (item_id, story_id, text_hash, word_count, "
        "shingle_count, minhash, lead_minhash, params_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item_id, story_id, fp.text_hash, fp.word_count, fp.shingle_count, fp.minhash,
         fp.lead_minhash, params_id(conn, fp.params), iso(now)))


def index(conn: sqlite3.Connection, item_id: int, fp: Fingerprint) -> None:
    """Put a story's member in the band index."""
    conn.executemany("INSERT OR IGNORE INTO lsh_bands (band_key, item_id) VALUES (?, ?)",
                     [(key, item_id) for key in fp.bands])


def kept_in_index(conn: sqlite3.Connection, story_id: int) -> tuple[set[int], int | None]:
    """The members of a story the band index keeps (its first item, its representative, its
    `INDEXED_NEWEST` newest members) and the member the newest of them pushed out, if any."""
    row = conn.execute("SELECT first_item_id, representative_item_id FROM stories WHERE id = ?",
                       (story_id,)).fetchone()
    newest = [r[0] for r in conn.execute(  # items_story, read backwards: INDEXED_NEWEST + 1 rows
        "SELECT id FROM items WHERE story_id = ? ORDER BY id DESC LIMIT ?",
        (story_id, INDEXED_NEWEST + 1))]
    kept = {row[0], row[1], *newest[:INDEXED_NEWEST]} - {None}
    out = newest[INDEXED_NEWEST] if len(newest) > INDEXED_NEWEST else None
    return kept, out if out not in kept else None


def index_member(conn: sqlite3.Connection, story_id: int, item_id: int, fp: Fingerprint,
                 matcher: StoryMatcher | None) -> None:
    """Put a member that just joined its story in the band index and take out the older member
    it pushed out of the newest ones. Taking out recomputes keys, which needs the matcher;
    without one, a member is indexed only while its story has room."""
    kept, out = kept_in_index(conn, story_id)
    if item_id in kept and (matcher is not None or out is None):
        index(conn, item_id, fp)
    if out is not None and out != item_id and matcher is not None:
        unindex(conn, out, matcher)


def unindex(conn: sqlite3.Connection, item_id: int, matcher: StoryMatcher) -> None:
    """Take an item out of the band index; its keys are recomputed from its stored signature."""
    row = conn.execute("SELECT minhash, lead_minhash FROM signatures WHERE item_id = ?",
                       (item_id,)).fetchone()
    if row is None or row[0] is None:
        return
    conn.executemany("DELETE FROM lsh_bands WHERE band_key = ? AND item_id = ?",
                     [(key, item_id) for key in matcher.bands(row[0], row[1])])


def params_id(conn: sqlite3.Connection, params: str) -> int:
    conn.execute("INSERT OR IGNORE INTO dedup_params (params) VALUES (?)", (params,))
    return int(conn.execute("SELECT id FROM dedup_params WHERE params = ?",
                            (params,)).fetchone()[0])


def _make_representative(conn: sqlite3.Connection, story_id: int, item_id: int, c: ItemContent,
                         fp: Fingerprint, matcher: StoryMatcher, now: datetime) -> None:
    old = conn.execute("SELECT representative_item_id FROM stories WHERE id = ?",
                       (story_id,)).fetchone()[0]
    conn.execute("UPDATE stories SET representative_item_id = ?, headline = ? WHERE id = ?",
                 (item_id, c.title, story_id))
    conn.execute("INSERT INTO story_events (story_id, at, kind, item_id, detail) "
                 "VALUES (?, ?, 'representative', ?, ?)",
                 (story_id, iso(now), item_id, f"replaces item {old}: a fuller copy"))
