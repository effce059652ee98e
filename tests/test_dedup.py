"""Wire-copy detection: the labelled set (pairwise), story assignment in a real store, agencies."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.matching import dedup, verify, wire
from storage import Store
from storage.records import (
    Candidate,
    ItemContent,
    ItemRevision,
    NewItem,
    PollRecord,
    SourceRecord,
)
from tests.conftest import sql
from tests.dedup_set import Doc, labelled_docs, labelled_pairs

NOW = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


def _template_boilerplate(docs: tuple[Doc, ...]) -> dict[int, set[int]]:
    """What the store learns per outlet: paragraphs in 3+ of the outlet's pages."""
    counts: Counter[tuple[int, int]] = Counter()
    for d in docs:
        for h in set(map(dedup.line_hash, dedup.paragraphs(d.text))):
            counts[(d.template, h)] += 1
    out: dict[int, set[int]] = defaultdict(set)
    for (template, h), n in counts.items():
        if n >= 3:
            out[template].add(h)
    return out


def test_labelled_set_is_big_enough() -> None:
    docs = labelled_docs()
    bases = [d for d in docs if d.role == "base"]
    copies = [d for d in docs if d.role not in ("base", "same_event", "followup")]
    negatives = [p for p in labelled_pairs(docs) if not p[2]]
    assert len(bases) >= 40 and {d.language for d in bases} == {"en", "fa"}
    assert len(copies) >= 150
    assert len({(a.id, b.id) for a, b, _, _ in negatives}) >= 100
    assert all(d.text for d in docs), [d.id for d in docs if not d.text]


def test_pairwise_precision_and_recall_on_the_labelled_set() -> None:
    docs = labelled_docs()
    boiler = _template_boilerplate(docs)
    fps = {d.id: dedup.fingerprint(d.text, boiler[d.template]) for d in docs}
    th = dedup.Thresholds()
    tp = fp = fn = 0
    merged_negatives = []
    for a, b, label, kind in labelled_pairs(docs):
        verdict = dedup.scores(fps[a.id], fps[b.id]).is_copy(th)
        tp += label and verdict
        fn += label and not verdict
        if verdict and not label:
            fp += 1
            merged_negatives.append((a.id, b.id, kind))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"pairwise precision {precision:.3f} recall {recall:.3f} (tp={tp} fp={fp} fn={fn})")
    assert precision >= 0.98 and recall >= 0.95
    assert merged_negatives == []


def _source(store: Store, sid: str, outlet: str) -> None:
    store.sync_sources([SourceRecord(sid, sid, "feed", f"http://{sid}.example/feed", "en",
                                     outlet, "topic", 900.0)], NOW)


def _item(doc: Doc, outlet: str, fp_boiler: set[int], text: str | None = None,
          url: str | None = None) -> NewItem:
    body = doc.text if text is None else text
    lines = dedup.paragraphs(body)
    content = ItemContent(title=doc.headline, text=body, author=None, published_at=NOW,
                          language=doc.language, status="ok", agency=wire.agency_of(lines),
                          search_text=body, search_title=doc.headline)
    return NewItem(entry_key=f"url:{url or doc.id}", guid=None, url=url, canonical_url=url,
                   outlet=outlet, summary=None, updated_at=None, feed_hash=None,
                   content=content, fingerprint=dedup.fingerprint(body, fp_boiler))


def test_stories_in_a_real_store_collapse_copies_and_keep_negatives_apart(
        store: Store) -> None:
    docs = list(labelled_docs())
    boiler = _template_boilerplate(tuple(docs))
    random.Random(7).shuffle(docs)
    docs.sort(key=lambda d: d.role != "base")  # bases first, then copies and negatives mixed
    matcher = dedup.Matcher()
    for t in range(5):
        _source(store, f"s{t}", f"Outlet {t}")
    for d in docs:
        store.record_poll(PollRecord(f"s{d.template}", NOW, "new", NOW + timedelta(minutes=5),
                                     new_items=(_item(d, f"Outlet {d.template}",
                                                      boiler[d.template]),)), matcher)
    story_of = {r["entry_key"][4:]: r["story_id"] for r in sql(store,
        "SELECT entry_key, story_id FROM items")}
    by_story: dict[str, set[int]] = defaultdict(set)
    for d in docs:
        by_story[d.story].add(story_of[d.id])
    split = {k: v for k, v in by_story.items() if len(v) > 1}
    owners = Counter(s for ids in by_story.values() for s in ids)
    merged = {s for s, n in owners.items() if n > 1}
    print(f"{len(by_story)} true stories; split {len(split)}; wrongly merged {len(merged)}")
    assert not merged  # no hard negative ever joins another story
    assert len(split) <= len(by_story) * 0.05
    # pickup counts count distinct outlets
    row = sql(store, "SELECT max(outlet_count) AS m, max(item_count) AS n FROM stories")[0]
    assert row["m"] <= 5 and row["n"] >= 5


def test_fuller_copy_becomes_representative_and_short_texts_need_exact(store: Store) -> None:
    docs = {d.id: d for d in labelled_docs()}
    base, updated = docs["en-01/base"], docs["en-01/updated"]
    _source(store, "a", "A")
    _source(store, "b", "B")
    matcher = dedup.Matcher()
    first = store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(
        _item(base, "A", set()),)), matcher)
    second = store.record_poll(PollRecord("b", NOW, "new", NOW, new_items=(
        _item(updated, "B", set()),)), matcher)
    assert second.copies == 1 and second.joined_story_ids == first.new_story_ids
    story = sql(store, "SELECT * FROM stories")[0]
    assert story["outlet_count"] == 2
    assert story["representative_item_id"] == second.new_item_ids[0]
    event = sql(store, "SELECT kind, item_id FROM story_events")[0]
    assert event["kind"] == "representative"
    # a 20-word snippet is not judged by similarity, but the same snippet elsewhere is exact
    snippet = " ".join(base.text.split()[:20])
    one = store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(
        _item(docs["en-02/base"], "A", set(), text=snippet),)), matcher)
    two = store.record_poll(PollRecord("b", NOW, "new", NOW, new_items=(
        _item(docs["en-03/base"], "B", set(), text=snippet),)), matcher)
    assert one.copies == 0 and two.copies == 1
    kinds = [r[0] for r in sql(store, "SELECT match_kind FROM items ORDER BY id")]
    assert kinds == ["first", "near", "first", "exact"]


def test_same_url_from_an_aggregator_joins_the_story(store: Store) -> None:
    d = labelled_docs()[0]
    _source(store, "agg", "*")
    _source(store, "own", "Own")
    url = "https://own.example/story-1"
    store.record_poll(PollRecord("own", NOW, "new", NOW, new_items=(
        _item(d, "Own", set(), url=url),)), dedup.Matcher())
    s = store.record_poll(PollRecord("agg", NOW, "new", NOW, new_items=(
        _item(d, "Own", set(), text="A teaser only.", url=url),)), dedup.Matcher())
    assert s.copies == 1
    assert sql(store, "SELECT outlet_count, item_count FROM stories")[0][:] == (1, 2)


def test_window_bounds_the_comparison(store: Store) -> None:
    docs = {d.id: d for d in labelled_docs()}
    _source(store, "a", "A")
    matcher = dedup.Matcher()
    store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(
        _item(docs["en-01/base"], "A", set()),)), matcher)
    later = NOW + timedelta(days=15)
    s = store.record_poll(PollRecord("a", later, "new", later, new_items=(
        _item(docs["en-01/retitled"], "A", set()),)), matcher, timedelta(days=14))
    assert s.copies == 0 and len(s.new_story_ids) == 1


@pytest.mark.parametrize(("lines", "agency"), [
    (["TEHRAN, Jan 20 (Reuters) - Officials said on Tuesday ...", "More."], "Reuters"),
    (["DUBAI (AP) — A senior diplomat ..."], "AP"),
    (["LONDON (Gulf Wire) - The embassy ..."], "Gulf Wire"),
    (["AFP - Strikes spread ..."], "AFP"),
    (["Body text.", "(Reporting by Parisa Hafezi; Editing by Alex Richardson)"], "Reuters"),
    (["Body text.", "— Agence France-Presse"], "AFP"),
    (["به گزارش ایسنا، کارگران پتروشیمی ..."], "ISNA"),
    (["به گزارش خبرگزاری تسنیم، ..."], "Tasnim"),
    (["(ايرنا) - متن خبر"], "IRNA"),
    (["متن خبر.", "منبع: ایرنا"], "IRNA"),
    (["The Associated Press reported that protests continued."], None),
    (["به گزارش خبرنگار ما، تجمع ادامه داشت."], None),
])
def test_agency_credits(lines: list[str], agency: str | None) -> None:
    assert wire.agency_of(lines) == agency


def test_credits_are_stripped_before_hashing() -> None:
    body = "Officials said the strike spread to three refineries on Tuesday. " * 10
    a = dedup.fingerprint(f"TEHRAN (Reuters) - {body}\nMore text here about it.")
    b = dedup.fingerprint(f"{body}\nMore text here about it.\n(Reporting by A; Editing by B)")
    assert a.text_hash == b.text_hash


def test_persian_letter_forms_and_zwnj_do_not_change_the_hash() -> None:
    text = "کارگران می‌گویند اعتصاب ادامه دارد و کارخانه‌ها تعطیل شده‌اند. " * 12
    variant = text.replace("ی", "ي").replace("ک", "ك").replace("\u200c", "")
    assert dedup.fingerprint(text).text_hash == dedup.fingerprint(variant).text_hash


def test_rebuild_index_keeps_story_ids_and_records_detaches(store: Store) -> None:
    docs = [d for d in labelled_docs() if d.base in ("en-01", "fa-01")]
    _source(store, "a", "A")
    matcher = dedup.Matcher()
    for d in docs:
        store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(
            _item(d, f"Outlet {d.template}", set()),)), matcher)
    before = dict(sql(store, "SELECT id, story_id FROM items"))
    bands = sql(store, "SELECT count(*) FROM lsh_bands")[0][0]

    def fingerprint(outlet: str, text: str) -> dedup.Fingerprint:
        return dedup.fingerprint(text)

    report = store.rebuild_index(fingerprint, matcher, NOW, timedelta(days=14))
    assert report.detached == 0 and report.items == len(docs)
    assert dict(sql(store, "SELECT id, story_id FROM items")) == before
    assert sql(store, "SELECT count(*) FROM lsh_bands")[0][0] == bands

    strict = dedup.Matcher(dedup.Thresholds(jaccard=1.01, containment=1.01, lead=1.01,
                                                   rewrite=1.01))
    report = store.rebuild_index(fingerprint, strict, NOW, timedelta(days=14))
    assert report.detached > 0
    after = dict(sql(store, "SELECT id, story_id FROM items"))
    moved = {i for i in before if after[i] != before[i]}
    assert len(moved) == report.detached
    assert all(before[i] in after.values() for i in before)  # old stories keep their ids
    events = sql(store, "SELECT count(*) FROM story_events WHERE kind = 'detach'")[0][0]
    assert events == report.detached


def test_prune_takes_old_stories_out_of_the_index(store: Store) -> None:
    d = labelled_docs()[0]
    _source(store, "a", "A")
    store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(_item(d, "A", set()),)),
                      dedup.Matcher())
    assert sql(store, "SELECT count(*) FROM lsh_bands")[0][0] > 0
    assert store.prune_index(NOW + timedelta(days=15), timedelta(days=14), dedup.Matcher()) == 1
    assert sql(store, "SELECT count(*) FROM lsh_bands")[0][0] == 0
    assert sql(store, "SELECT indexed FROM stories")[0][0] == 0


@pytest.mark.parametrize(("lines", "agency"), [
    (["استکهلم (آوانگار)، یک دیپلمات ..."], "آوانگار"),
    (["متن خبر.", "(آوانگار)"], "آوانگار"),
    (["(ایسنا)، کارگران ..."], "ISNA"),
])
def test_persian_datelines_and_trailing_credits(lines: list[str], agency: str) -> None:
    assert wire.agency_of(lines) == agency


def test_fingerprint_words_as_in_the_joined_normal_form() -> None:
    """Paragraphs are normalised one by one for speed; a joiner at a paragraph's edge (which
    joins words across it in the text's normal form) falls back to the joined form."""
    from monitor.matching.text import search_form, words

    for text in ("Protesters gathered\u00ad\nin the square " * 30,
                 "اعتراض\u200c\nکارگران در شهر " * 30,
                 "Plain first line.\nSecond line here. " * 30):
        expected = len(words(search_form("\n".join(dedup.paragraphs(text)))))
        assert dedup.fingerprint(text).word_count == expected


def test_a_skipped_entry_revised_with_text_is_placed_like_a_new_item(store: Store) -> None:
    """An entry the gate skipped, revised later with real text, goes through the same story
    assignment as a new item: it joins the story it copies, and its signature is stored so
    that later copies join it too."""
    docs = {d.id: d for d in labelled_docs()}
    base, updated = docs["en-01/base"], docs["en-01/updated"]
    other = docs["en-02/base"]
    for sid in ("a", "b", "c"):
        _source(store, sid, sid.upper())
    matcher = dedup.Matcher()
    first = store.record_poll(PollRecord("b", NOW, "new", NOW, new_items=(
        _item(updated, "B", set()),)), matcher)
    skipped = replace(_item(base, "A", set()), fingerprint=None)
    skipped = replace(skipped, content=replace(skipped.content, text=None, status="skipped"))
    lone = replace(_item(other, "A", set()), fingerprint=None, entry_key="url:lone")
    lone = replace(lone, content=replace(lone.content, text=None, status="skipped"))
    placed = store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(skipped, lone)),
                               matcher)
    assert placed.new_story_ids == ()
    skipped_id, lone_id = placed.new_item_ids
    revision = store.record_poll(PollRecord("a", NOW, "no_new", NOW, revisions=(
        _revision(skipped_id, _item(base, "A", set())),
        _revision(lone_id, _item(other, "A", set())))), matcher)
    assert revision.copies == 1 and revision.joined_story_ids == first.new_story_ids
    assert len(revision.new_story_ids) == 1
    signed = {r[0] for r in sql(store, "SELECT item_id FROM signatures")}
    assert {skipped_id, lone_id} <= signed
    later = store.record_poll(PollRecord("c", NOW, "new", NOW, new_items=(
        _item(other, "C", set(), url="https://c.example/copy"),)), matcher)
    assert later.copies == 1 and later.joined_story_ids == revision.new_story_ids


def _revision(item_id: int, item: NewItem) -> ItemRevision:
    return ItemRevision(item_id=item_id, feed_hash="changed", updated_at=None,
                        content=item.content, reason="feed entry changed",
                        fingerprint=item.fingerprint)


def test_verification_reads_the_shingles_a_worker_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fingerprint carries its text's paragraph shingles: the verdicts on them are the verdicts
    on the texts, and the matcher cuts no text into shingles while it chooses (the new item's
    come with its fingerprint, a candidate's are remembered from when it was new)."""
    docs = labelled_docs()
    for a, b, _, _ in labelled_pairs(docs)[:120]:
        fa, fb = dedup.fingerprint(a.text), dedup.fingerprint(b.text)
        if fa.minhash is None or fb.minhash is None:
            continue
        sa, sb = verify.Shingled.of_blob(fa.shingled), verify.Shingled.of_blob(fb.shingled)
        assert verify.align(sa, sb) == verify.align(a.text, b.text)
        assert dedup.judge(fa, fb, sa, sb) == dedup.judge(fa, fb, a.text, b.text)
    copies = [d for d in docs if d.base == docs[0].base and d.story == d.base]
    fps = [dedup.fingerprint(d.text) for d in copies]
    made: list[str] = []
    real = verify.Shingled.of_text
    monkeypatch.setattr(verify.Shingled, "of_text",
                        classmethod(lambda cls, text, normed=None: made.append(text)
                                    or real(text, normed)))
    matcher, joined = dedup.Matcher(), 0
    for i, (d, fp) in enumerate(zip(copies, fps, strict=True)):
        earlier = [Candidate(1, j, f.word_count, f.shingle_count, f.minhash, f.lead_minhash,
                             copies[j].text) for j, f in enumerate(fps[:i])]
        joined += matcher.choose(fp, earlier, d.text) is not None
    assert made == [] and joined >= len(copies) - 2


def test_a_lede_that_shares_only_a_name_is_its_own_paragraph() -> None:
    """Background reuse: the earlier article's lede shares one phrase with the later article
    (a name), not pieces of an edited copy; with its own last paragraph that is two of its own."""
    background = [
        "The navy base outside the port had been expanded over the past three years, with new "
        "piers built for the larger patrol boats that arrived from the north in the spring.",
        "Residents said the harbour road had been closed to traffic several times this month "
        "while convoys of lorries carried equipment to the base during the night hours.",
        "A local council member said fishermen had been told to keep away from the eastern "
        "breakwater and that several boats had been turned back by the coast patrol units.",
        "The provincial governor visited the harbour last week and praised the work of the "
        "builders, according to a statement published on the provincial office website.",
    ]
    earlier = "\n".join([
        "Captain Dariush Farahmand, who commanded the eastern flotilla, has left the country "
        "and asked for asylum abroad, a relative said on Sunday evening by telephone.",
        *background,
        "The account could not be confirmed independently, and the navy's press office did "
        "not answer calls and messages about the departure on Monday morning.",
    ])
    later = "\n".join([
        "A week after Captain Dariush Farahmand fled, prosecutors summoned two of his former "
        "deputies for questioning over missing fuel records at the base.",
        "Lawyers for the two officers said their clients had done nothing wrong and would "
        "appeal against any travel ban that the court might impose on them this month.",
        *background,
    ])
    al = verify.align(earlier, later)
    assert al.own == 2 and verify.shares_background(al)


def test_verification_leaves_the_outlets_boilerplate_out() -> None:
    """A newsletter line the store learnt as the outlet's is no paragraph of the article's own,
    in the fingerprint's paragraph shingles as in its signatures (made by a worker first, which
    does not know it, or at once)."""
    doc = labelled_docs()[0]
    line = "Sign up for our morning briefing and get the news of the day in your inbox."
    text = f"{doc.text}\n{line}"
    boiler = {dedup.line_hash(line)}
    whole = verify.Shingled.of_blob(dedup.fingerprint(text).shingled)
    for fp in (dedup.fingerprint(text, boiler),
               dedup.fingerprint(text, boiler, shingled=dedup.fingerprint(text).shingled)):
        assert len(verify.Shingled.of_blob(fp.shingled).sizes) == len(whole.sizes) - 1


@pytest.mark.parametrize("compact", ["", "short", "thequickbrownfoxjumpsoverthelazydog" * 3,
                                     "گزارشخبرنگارانازتهرانامروز", "caféauchocolatchaud"])
def test_char_shingles_are_the_crc_of_each_utf8_slice(compact: str) -> None:
    """The ASCII fast path (one encoding, byte slices) gives what slicing characters gives."""
    k = verify.SHINGLE_CHARS
    expected = [verify._crc(compact[i:i + k].encode("utf-8"))
                for i in range(max(1, len(compact) - k + 1))]
    assert list(verify._char_shingles(compact)) == expected
