"""The band index keeps a bounded number of members per story: a story grown from many
near-identical templated copies offers each new item the same few candidates (its first item,
its representative, its newest members), whatever its size. Counts, not timings."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from monitor.matching import dedup
from storage import Store, stories
from storage.records import (
    Candidate,
    Fingerprint,
    ItemContent,
    MatchDecision,
    NewItem,
    PollRecord,
    SourceRecord,
)
from tests.conftest import sql

NOW = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
BOUND = stories.INDEXED_NEWEST + 2  # the newest members, the first item, the representative


class Counting(dedup.Matcher):
    """The shipped matcher, counting the candidates it is offered."""

    def __init__(self) -> None:
        super().__init__()
        self.offered: list[int] = []

    def choose(self, item: Fingerprint, candidates: list[Candidate],
               text: str | None = None) -> MatchDecision | None:
        self.offered.append(len(candidates))
        return super().choose(item, candidates, text)


def _text(n: int, sentences: int = 30) -> str:
    """One paragraph of a template filled with other numbers (as benchmarks.steady_state
    serves them)."""
    return " ".join(f"Workers at plant {n} stopped work on day {n % 7}, a union statement "
                     f"said on the morning of the strike, sentence {i}." for i in range(sentences))


def _poll(store: Store, matcher: dedup.Matcher, n: int, text: str) -> None:
    source = f"s{n % 5}"
    content = ItemContent(title=f"Strike {n}", text=text, author=None, published_at=NOW,
                          language=("en", "fa")[n % 2], status="ok", search_text=text,
                          search_title=f"Strike {n}")
    item = NewItem(f"k:{n}", None, None, None, f"Outlet {n % 5}", None, None, None, content,
                   fingerprint=dedup.fingerprint(text))
    store.record_poll(PollRecord(source, NOW, "new", NOW, new_items=(item,)), matcher)


def _indexed(store: Store) -> set[int]:
    return {r[0] for r in sql(store, "SELECT DISTINCT item_id FROM lsh_bands")}


def test_candidates_stay_bounded_as_a_story_of_templated_copies_grows(store: Store) -> None:
    store.sync_sources([SourceRecord(f"s{k}", f"s{k}", "feed", f"http://s{k}.example/feed",
                                     "en", f"Outlet {k}", "topic", 900.0) for k in range(5)],
                       NOW)
    matcher = Counting()
    for n in range(80):  # the second is a fuller copy: it represents the story from then on
        _poll(store, matcher, n, _text(0, 40) if n == 1 else _text(n))
    story = sql(store, "SELECT * FROM stories")
    assert len(story) == 1 and story[0]["item_count"] == 80  # one story: nothing was lost
    members = [r[0] for r in sql(store, "SELECT id FROM items ORDER BY id")]
    assert story[0]["representative_item_id"] == members[1]
    assert max(matcher.offered) <= BOUND  # without the bound: one candidate per member (79)
    assert matcher.offered[-1] == matcher.offered[BOUND + 10]  # flat as the story grows
    kept = {members[0], members[1], *members[-stories.INDEXED_NEWEST:]}
    assert _indexed(store) == kept
    # the counts a member's joining moved equal a recount over all members
    before = sql(store, "SELECT item_count, outlet_count, languages FROM stories")[0][:]
    with sqlite3.connect(store.path) as conn:
        stories.refresh_story(conn, story[0]["id"], NOW)
    assert sql(store, "SELECT item_count, outlet_count, languages FROM stories")[0][:] == \
        before == (80, 5, "en,fa")
    # a rebuild keeps the same members in the index
    report = store.rebuild_index(lambda outlet, text: dedup.fingerprint(text), matcher, NOW,
                                 timedelta(days=14))
    assert report.detached == 0 and _indexed(store) == kept
    assert store.prune_index(NOW + timedelta(days=15), timedelta(days=14), matcher) == 1
    assert _indexed(store) == set()
