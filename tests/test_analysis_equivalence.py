"""The analysis' short cuts give exactly what the plain computation gives.

`monitor.polling.analysis.analyse` normalises each paragraph once and builds the search text,
the fingerprint and the related features from those forms; the topic stage looks every alias
group up in one pass (monitor.matching.lexicon); several hot spots were rewritten for speed
(normalisation, alias options, NEAR, the model's evidence, band keys, anchors, the language
guess). Each is checked here against the straightforward way on the project's written sets
(tests/data) and on random strings.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import re
import struct
import unicodedata
from array import array
from pathlib import Path

import pytest

from benchmarks.topic_model import load_own
from monitor.configuration.sources import load_topics
from monitor.matching import anchors, dedup, judge, related, text, topics
from monitor.matching.lead import menu_last
from monitor.matching.rules import FIELDS, MISS, Any_, Document, Hit, Phrase, _near
from monitor.matching.text import joined_search_form, search_form
from monitor.polling.analysis import Analysis, analyse
from tests.related_set import related_docs

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
TRICKY = [*"ab A.'’-1,",
    "\u200c", "\u200d", "\u00ad", "\u200e", "\u202a", "\ufeff", "\u0640", "\u064b", "\u0670",
    "\ufe70", "\ufe71", "\ufc5e", "\u0654", "\u0301", "\u00a0", "\u2000", "\t", "\r", "\x0b",
    "\x1c", "\x85", "\u2028", "\x00", "\u064a", "\u0643", "\u06cc", "\u0627", "\u06f1",
    "\ufb8e", "\uff21", "\ud800", "\u0130", "\u03a3", "\u00df", "\u200b", "\u2066"]
GAPS = ["\n", " \n", "\n\n", "\n \u00a0\n", "\r\n", "\n\t", " ", "\u2028", "\x1c\n", "\x85"]


@pytest.fixture(scope="module")
def config() -> topics.TopicsConfig:
    return load_topics(REPO / "config" / "topics.toml", [])


@pytest.fixture(scope="module")
def items() -> list[tuple[str, str, str]]:
    out = [(it.title, it.text, it.language) for name in ("topics_dev", "topics_test",
                                                          "topics_holdout")
           for it in load_own(DATA / f"{name}.json")]
    return out + [(d.title, d.text, d.language) for d in related_docs()]


def _plain_normalize(value: str, zwnj: str) -> str:
    """normalize as its docstring lists the steps, every step always run."""
    if not value:
        return ""
    value = unicodedata.normalize("NFKC", text._CONTROL.sub(" ", value))
    value = text._JOINERS.sub(text.ZWNJ, value.translate(text._TRANSLATE))
    value = text._SPACE_AROUND_ZWNJ.sub(text.ZWNJ, value)
    if zwnj == "drop":
        value = value.replace(text.ZWNJ, "")
    return re.sub(r"\s+", " ", value.casefold()).strip()


def test_normalize_is_the_plain_steps() -> None:
    rng = random.Random(15)
    samples = ["".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 12)))
               for _ in range(20000)]
    samples += [f"a{chr(c)}b" for c in [*range(0x3000), *range(0xFB00, 0x10000)]]
    for s in samples:
        for zwnj in ("keep", "drop"):
            assert text.normalize(s, zwnj=zwnj) == _plain_normalize(s, zwnj), repr(s)  # type: ignore[arg-type]


def test_joined_search_form_is_the_whole_texts() -> None:
    rng = random.Random(1404)
    derived = 0
    for _ in range(20000):
        parts = ["".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 6)))
                 for _ in range(rng.randint(1, 4))]
        whole = parts[0] + "".join(rng.choice(GAPS) + p for p in parts[1:])
        got = joined_search_form(parts, [search_form(p) for p in parts])
        if got is not None:
            derived += 1
            assert got == search_form(whole), repr(parts)
    assert derived > 10000  # the short cut is the common case
    assert joined_search_form(["می\u200c", "شود"], ["می", "شود"]) is None  # joins across


def _plain_analysis(config: topics.TopicsConfig, title: str, body: str,
                    language: str) -> Analysis:
    """The analysis computed the plain way: whole texts normalised, every alias group
    evaluated on its own, paragraphs split and normalised again by each stage."""
    search_title, search_text = search_form(title), search_form(body)
    doc = Document.of(search_title, search_form(menu_last(body)), language, normalised=True)
    shared = {"rules": {t.name: topics.rule_result(t, doc) for t in config.topics}}
    hits = tuple(h for t in config.topics
                 if (h := topics.judge_topic(config, t, doc, language, shared)) is not None)
    passed = any(h.state == "match" for h in hits)
    return Analysis(language, search_title, search_text,
                    dedup.wire.agency_of(dedup.paragraphs(body)), hits,
                    dedup.fingerprint(body),
                    related.features(title, body, language) if passed else None)


def test_analysis_is_the_plain_computation(config: topics.TopicsConfig,
                                           items: list[tuple[str, str, str]]) -> None:
    edges = [("ایران\u200c", "\u200cتهران\u200c\nمی\u200cشود اعتراض\u200c\u200e\n" * 12, "fa"),
             ("IRGC", "Home\nNews\nWorld\nSport\nThe IRGC arrested protesters in Tehran.", "en")]
    passed = 0
    for title, body, language in [*items, *edges]:
        got = analyse(config, title, body, "en", language)
        assert got == _plain_analysis(config, title, body, language), title
        passed += got.related is not None
    assert passed > 50  # related features were compared too


def _naive_phrase(phrase: Phrase, doc: Document, f: str) -> set[int]:
    tokens, n = doc.fields[f], len(phrase.words)
    first = phrase.words[0]
    if not any(t.startswith(first) if phrase.prefixes[0] else t == first for t in set(tokens)):
        return set()
    return {i + k for i in range(len(tokens) - n + 1)
            if all(tokens[i + k].startswith(w) if p else tokens[i + k] == w
                   for k, (w, p) in enumerate(zip(phrase.words, phrase.prefixes, strict=True)))
            for k in range(n)}


def _naive_group(group: Any_, doc: Document, f: str) -> Hit:
    found: set[int] = set()
    terms: set[str] = set()
    for _, _, option in group._first_words:
        assert isinstance(option, Phrase)
        spots = _naive_phrase(option, doc, f)
        if spots:
            found |= spots
            terms.add(f"{group.label}:{option.label}" if group.label.startswith("@")
                      else group.label)
    return Hit(True, {f: found}, frozenset(terms)) if found else MISS


def test_alias_groups_match_option_by_option(config: topics.TopicsConfig,
                                             items: list[tuple[str, str, str]]) -> None:
    for title, body, language in items[::4]:
        alone = Document.of(title, body, language)
        together = Document.of(title, body, language)
        config.lexicon.fill(together)
        for group in config.groups:
            for f in FIELDS:
                want = _naive_group(group, alone, f)
                assert group._eval(alone, f) == want == together.memo[(group.label, f)]


def test_near_is_every_pair_within_the_distance() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        xs = sorted(rng.sample(range(60), rng.randint(0, 8)))
        ys = sorted(rng.sample(range(60), rng.randint(0, 8)))
        d = rng.randint(0, 12)
        assert _near(xs, ys, d) == {x for x in xs for y in ys if abs(x - y) <= d}


def test_model_evidence_is_the_n_largest() -> None:
    rng = random.Random(3)
    table = array("f", (rng.choice([0.0, 0.0, 0.5, -0.25, rng.uniform(-2, 2)])
                        for _ in range(judge.SIZE)))
    weights = judge.Weights(0.1, table)
    for _ in range(300):
        feats = {rng.randrange(judge.SIZE): rng.choice("abcdefg")
                 for _ in range(rng.randint(0, 40))}
        values = [table[h] for h in feats]
        strongest = heapq.nlargest(12, zip(values, feats.values(), strict=True))
        want: dict[str, float] = {}
        for w, label in strongest:
            want[label] = want.get(label, 0.0) + w
        logit, got = weights.contributions(feats)
        assert logit == 0.1 + sum(values) and list(got.items()) == list(want.items())


def test_band_keys_hash_each_band_packed() -> None:
    rng = random.Random(5)
    full = [rng.getrandbits(32) for _ in range(dedup.NUM_PERM)]
    lead = [rng.getrandbits(32) for _ in range(dedup.NUM_PERM)]

    def key(band: int, rows: list[int]) -> int:
        data = struct.pack(f"<B{len(rows)}I", band, *rows)
        return int.from_bytes(hashlib.blake2b(data, digest_size=6).digest(), "little") >> 1

    layout = [(0, full, dedup.FULL_BANDS, dedup.FULL_ROWS),
              (32, lead, dedup.LEAD_BANDS, dedup.LEAD_ROWS),
              (48, full, dedup.LOW_BANDS, dedup.LOW_ROWS),
              (80, lead, dedup.LEAD_LOW_BANDS, dedup.LEAD_LOW_ROWS)]
    want = [key(first + b, values[b * rows:(b + 1) * rows])
            for first, values, bands, rows in layout for b in range(bands)]
    assert list(dedup.band_keys(full, lead)) == want
    assert list(dedup.band_keys(full, None)) == want[:32] + want[48:80]


def test_anchors_patterns_and_phrases_as_written_plainly(
        items: list[tuple[str, str, str]]) -> None:
    plain_name = re.compile(r"\b([A-Z][a-z]{2,}(?: [A-Z][a-z]{2,}){1,2})\b")
    plain_number = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d{2,})(?![\d])")
    rng = random.Random(9)
    samples = ["".join(rng.choice("0123456789,. aAbZzé_'\n١") for _ in range(rng.randint(0, 16)))
               for _ in range(20000)] + [f"{t}\n{b}" for t, b, _ in items]
    for s in samples:
        for mine, plain in ((anchors._NAME, plain_name), (anchors._NUMBER, plain_number)):
            assert [m.group(1) for m in mine.finditer(s)] == \
                [m.group(1) for m in plain.finditer(s)], repr(s)
    longest = max(len(p) for p in anchors.PHRASES)
    for title, body, _ in items:
        tokens = text.words(search_form(f"{title}\n{body}"))
        want = set()
        for i in range(len(tokens)):
            for n in range(longest, 0, -1):
                if (key := anchors.PHRASES.get(tuple(tokens[i:i + n]))) is not None:
                    want.add(key)
                    break
        got = anchors.anchors(title, body)
        assert {a for a in got if a.startswith(("place:", "inst:"))} == want


def test_language_counts_as_the_patterns_find() -> None:
    rng = random.Random(11)
    alphabet = [chr(c) for c in [*range(0x20, 0x80), *range(0x5F0, 0x710), *range(0xFB40, 0xFF10),
                                 0xD800, 0xE9, 0x1F600, 0x10FFFF]]
    for _ in range(20000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert text._script_counts(s) == (len(text._ARABIC_SCRIPT.findall(s)),
                                          len(text._LATIN_LETTER.findall(s)))
