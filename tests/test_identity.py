"""Entry identity: keys, demoted GUIDs, rotating GUIDs, revisions and retries (pure functions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from monitor.parsing.feeds import Entry
from monitor.parsing.identity import MAX_ATTEMPTS, Action, keyed, plan_entries
from storage.records import KnownEntry

T0 = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)


def entry(guid: str | None, link: str | None, title: str = "Diplomat defects",
          **kw: object) -> Entry:
    base = Entry(guid=guid, link=link, title=title, summary="summary", content="", author=None,
                 published=T0, updated=None)
    return replace(base, **kw)  # type: ignore[arg-type]


def known_from(e: Entry, key: str, **kw: object) -> KnownEntry:
    from monitor.parsing.identity import _canonical
    base = KnownEntry(item_id=1, entry_key=key, guid=e.guid, canonical_url=_canonical(e.link),
                      feed_hash=e.feed_hash, updated_at=e.updated, title=e.title, status="ok")
    return replace(base, **kw)  # type: ignore[arg-type]


def test_key_prefers_guid_then_canonical_link_then_hash() -> None:
    rows = keyed([
        entry("abc", "https://x.test/a"),
        entry(None, "https://www.x.test/b?utm_source=rss"),
        entry(None, None, title="No link at all"),
    ])
    keys = [k for _, k, _, _ in rows]
    assert keys[0] == "guid:abc"
    assert keys[1] == "url:https://x.test/b"
    assert keys[2].startswith("hash:")


def test_guid_shared_by_different_links_is_not_trusted() -> None:
    rows = keyed([entry("same", "https://x.test/a", "A"), entry("same", "https://x.test/b", "B")])
    assert [k for _, k, _, _ in rows] == ["url:https://x.test/a", "url:https://x.test/b"]


def test_exact_duplicates_within_one_feed_keep_the_first() -> None:
    rows = keyed([entry("g1", "https://x.test/a", "first"), entry("g1", "https://x.test/a", "dup")])
    assert len(rows) == 1 and rows[0][0].title == "first"


def test_javascript_link_has_no_fetchable_link() -> None:
    (row,) = keyed([entry("g", "javascript:alert(1)")])
    assert row[2] is None and row[3] is None and row[1] == "guid:g"


def test_rotating_guid_with_same_link_is_known() -> None:
    first = entry("rot-1", "https://x.test/story?utm_medium=feed")
    known = [known_from(first, "guid:rot-1")]
    again = entry("rot-2", "https://x.test/story")
    plan = plan_entries([again], known, limit=10)
    assert plan.work == [] and plan.unchanged == 1


def test_reused_guid_with_new_link_and_title_is_new() -> None:
    first = entry("g", "https://x.test/old", title="Old story")
    plan = plan_entries([entry("g", "https://x.test/new", title="Different story")],
                        [known_from(first, "guid:g")], limit=10)
    assert [p.action for p in plan.work] == [Action.NEW]


def test_changed_content_or_newer_update_means_revised() -> None:
    first = entry("g", "https://x.test/a")
    known = [known_from(first, "guid:g")]
    retitled = entry("g", "https://x.test/a", title="Diplomat defects, seeks asylum")
    (p,) = plan_entries([retitled], known, limit=10).work
    assert p.action is Action.REVISED and p.key == "guid:g" and p.known is not None
    newer = entry("g", "https://x.test/a", updated=datetime(2026, 1, 21, tzinfo=UTC))
    known_upd = [known_from(first, "guid:g", updated_at=datetime(2026, 1, 20, 9, tzinfo=UTC))]
    assert [q.action for q in plan_entries([newer], known_upd, limit=10).work] == [Action.REVISED]


def test_failed_article_is_retried_a_bounded_number_of_times() -> None:
    e = entry("g", "https://x.test/a")
    failing = known_from(e, "guid:g", status="error", fetch_attempts=1)
    assert [p.action for p in plan_entries([e], [failing], 10).work] == [Action.RETRY]
    exhausted = replace(failing, fetch_attempts=MAX_ATTEMPTS)
    assert plan_entries([e], [exhausted], 10).work == []


def test_limit_defers_the_rest() -> None:
    entries = [entry(f"g{i}", f"https://x.test/{i}", title=f"t{i}") for i in range(5)]
    plan = plan_entries(entries, [], limit=2)
    assert len(plan.work) == 2 and plan.deferred == 3
