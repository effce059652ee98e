"""Near-duplicate detection — pure functions: shingles, MinHash signatures, LSH bands, the verdict.

An item's text is split into paragraphs; credit lines (monitor.matching.wire) and the outlet's
own boilerplate paragraphs are dropped; the rest is normalised (monitor.matching.text, ZWNJ
dropped) and cut into shingles. Two MinHash signatures are made with the same permutations:

* the *full* signature over every shingle of the body;
* the *lead* signature over the first `LEAD_WORDS` words after the first paragraph. Copies cut
  to their first paragraphs keep this part even when an editor rewrote the lede, so it finds
  truncated copies whose full-text Jaccard is low.

Band keys (LSH) are 47-bit hashes of the band number and the band's rows (six bytes each in
SQLite). Every member of a story in the window is indexed (storage.stories), with extra
low-threshold bands for light rewrites; `judge` accepts a candidate when its estimated Jaccard is
high, or when the smaller text is mostly contained in the larger one (a cut copy, or an update
with paragraphs added), unless the stored texts show a distinct article that reuses background;
or, on the texts, when it is a light rewrite (monitor.matching.verify). Thresholds and the
shingle kind were chosen by measurement on tests/data (see benchmarks/shingles.py,
benchmarks/related.py and the README).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from itertools import chain

import rensa

from monitor.matching import verify, wire
from monitor.matching.text import NORMALIZER_VERSION, search_form, words
from storage.records import Candidate, Fingerprint, MatchDecision

NUM_PERM = 128
SEED = 1404  # fixed: signatures from different runs must be comparable
FULL_BANDS, FULL_ROWS = 32, 4  # uses all 128 values of the full signature
LEAD_BANDS, LEAD_ROWS = 16, 3  # uses the first 48 values of the lead signature
# low-threshold bands for rewrites (candidates only: every one is verified on the texts)
LOW_BANDS, LOW_ROWS = 32, 2  # the first 64 values of the full signature
LEAD_LOW_BANDS, LEAD_LOW_ROWS = 24, 2  # the 48 values of the lead signature
LEAD_WORDS = 120
MIN_WORDS = 50  # shorter texts match only by URL or exact body
SHINGLE = "c5"  # chosen by benchmarks/shingles.py; see the README


@dataclass(frozen=True)
class Thresholds:
    jaccard: float = 0.5  # full-text estimated Jaccard
    containment: float = 0.8  # share of the smaller text found in the larger
    lead: float = 0.6  # lead-window Jaccard, for cut copies with a rewritten lede
    lead_containment: float = 0.55  # with a matching lead, this much of the smaller text
    rewrite: float = 0.4  # exact containment of a light rewrite (monitor.matching.verify)


def params_tag(shingle: str = SHINGLE) -> str:
    """How a signature was made; a change means `monitor rebuild-index`."""
    return (f"rensa-{_RENSA_VERSION};perm={NUM_PERM};seed={SEED};shingle={shingle};"
            f"bands={FULL_BANDS}x{FULL_ROWS}+{LEAD_BANDS}x{LEAD_ROWS}+{LOW_BANDS}x{LOW_ROWS}"
            f"+{LEAD_LOW_BANDS}x{LEAD_LOW_ROWS};lead={LEAD_WORDS};"
            f"norm={NORMALIZER_VERSION}")


def _version() -> str:
    from importlib.metadata import version

    return version("rensa")


_RENSA_VERSION = _version()


# -- text ----------------------------------------------------------------------------------------


_JOINERS = ("\u200c", "\u200d", "\u00ad")  # ZWNJ, ZWJ, soft hyphen (see text.normalize)


def paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"\n+", text or "") if p.strip()]


def line_hash(line: str) -> int:
    """63-bit hash of a normalised paragraph (for per-outlet boilerplate counts)."""
    return _hash63(search_form(line).encode("utf-8"))


def shingles(norm: str, kind: str = SHINGLE) -> list[str]:
    """Shingles of normalised text: word n-grams ("w3") or character n-grams without spaces
    ("c5"), which ignore where a writer put spaces or ZWNJs in Persian compounds."""
    return _token_shingles(words(norm), kind)


def _token_shingles(tokens: list[str], kind: str) -> list[str]:
    n = int(kind[1:])
    if kind.startswith("w"):
        if len(tokens) < n:
            return [" ".join(tokens)] if tokens else []
        return [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    compact = "".join(tokens)
    return [compact[i:i + n] for i in range(max(1, len(compact) - n + 1))] if compact else []


def _minhash(items: list[str]) -> list[int]:
    m = rensa.RMinHash(num_perm=NUM_PERM, seed=SEED)
    m.update(items)
    return list(m.digest())


def _pack(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def unpack(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 4}I", blob)


def band_keys(full: list[int], lead: list[int] | None) -> tuple[int, ...]:
    packed_full = _pack(full)
    keys = _band_keys(0, packed_full, FULL_BANDS, FULL_ROWS)
    packed_lead = _pack(lead) if lead is not None else b""
    if lead is not None:
        keys += _band_keys(FULL_BANDS, packed_lead, LEAD_BANDS, LEAD_ROWS)
    first = FULL_BANDS + LEAD_BANDS
    keys += _band_keys(first, packed_full, LOW_BANDS, LOW_ROWS)
    if lead is not None:
        keys += _band_keys(first + LOW_BANDS, packed_lead, LEAD_LOW_BANDS, LEAD_LOW_ROWS)
    return tuple(keys)


def _band_keys(first: int, packed: bytes, bands: int, rows: int) -> list[int]:
    """47 bits (six bytes in SQLite) of a hash of each band's number (from `first`) and its
    rows (four bytes each in `packed`, little-endian)."""
    size = 4 * rows
    blake2b = hashlib.blake2b
    return [int.from_bytes(blake2b(bytes((first + band,)) + packed[band * size:(band + 1) * size],
                                   digest_size=6).digest(), "little") >> 1
            for band in range(bands)]


def _hash63(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") >> 1


Boilerplate = Collection[int] | Callable[[tuple[int, ...]], Collection[int]]


def fingerprint(text: str | None, boilerplate: Boilerplate = frozenset(),
                shingle: str = SHINGLE, *, normed: Mapping[str, str] | None = None) -> Fingerprint:
    """Fingerprint an item's text, without its credits and the outlet's boilerplate lines.
    `boilerplate` is the set of paragraph hashes to leave out, or a lookup that is given the
    text's paragraph hashes and answers which of them are boilerplate. `normed`: the search
    form of every paragraph (`paragraphs`), when the caller has them already."""
    lines = paragraphs(text)
    if normed is None:  # each paragraph normalised once
        normed = {line: search_form(line) for line in lines}
    hashes = tuple(_hash63(normed[line].encode("utf-8")) for line in lines)
    common = boilerplate(hashes) if callable(boilerplate) else boilerplate
    body = [line for line, h in zip(lines, hashes, strict=True) if h not in common]
    tokens, lead_words, skip = _body_words(wire.strip_credits(body), normed)
    # spaces left out: Persian compounds are written with a space, a ZWNJ or nothing
    text_hash = _hash63("".join(tokens).encode("utf-8"))
    grams = _token_shingles(tokens, shingle)
    shingled = list(set(grams))  # MinHash ignores order
    if len(tokens) < MIN_WORDS or not shingled:
        return Fingerprint(text_hash, len(tokens), len(shingled), None, None, (),
                           params_tag(shingle), hashes)
    full = _minhash(shingled)
    lead_tokens = lead_words[:LEAD_WORDS]
    lead = None
    if len(lead_tokens) >= 30:
        if skip is not None and shingle.startswith("c"):  # the lead's are a run of the text's
            start = sum(map(len, tokens[:skip]))
            lead_grams = grams[start:start + sum(map(len, lead_tokens)) - int(shingle[1:]) + 1]
        else:
            lead_grams = _token_shingles(lead_tokens, shingle)
        lead = _minhash(list(set(lead_grams)))
    return Fingerprint(
        text_hash=text_hash, word_count=len(tokens), shingle_count=len(shingled),
        minhash=_pack(full), lead_minhash=_pack(lead[:LEAD_BANDS * LEAD_ROWS]) if lead else None,
        bands=band_keys(full, lead), params=params_tag(shingle), line_hashes=hashes)


def _body_words(body: list[str], normed: Mapping[str, str]) -> tuple[list[str], list[str],
                                                                       int | None]:
    """The words of the body's lines (credits stripped: a shortened line is normalised again)
    and of its lead part (the lines after the first), with where that part starts among the
    body's words, or None when it had to be normalised apart."""
    if any(line[:1] in _JOINERS or line[-1:] in _JOINERS for line in body):
        # a joiner at a paragraph's edge joins words across it in the text's normal form
        lead_lines = body[1:] if len(body) > 1 else body
        return (words(search_form("\n".join(body))), words(search_form("\n".join(lead_lines))),
                None)
    # the words of the joined lines are the lines' words one after another
    per_line = [words(normed.get(line) or search_form(line)) for line in body]
    tokens = list(chain.from_iterable(per_line))
    skip = len(per_line[0]) if len(per_line) > 1 else 0
    return tokens, tokens[skip:], skip


# -- the verdict ---------------------------------------------------------------------------------


def jaccard(a: bytes, b: bytes) -> float:
    x, y = unpack(a), unpack(b)
    n = min(len(x), len(y))
    return sum(1 for i in range(n) if x[i] == y[i]) / n if n else 0.0


def containment(j: float, size_a: int, size_b: int) -> float:
    """Estimated share of the smaller set inside the larger, from Jaccard and the set sizes."""
    small = min(size_a, size_b)
    if small == 0:
        return 0.0
    intersection = j * (size_a + size_b) / (1 + j)
    return min(1.0, intersection / small)


@dataclass(frozen=True)
class Scores:
    jaccard: float
    containment: float
    lead: float

    def is_copy(self, t: Thresholds) -> bool:
        return (self.jaccard >= t.jaccard or self.containment >= t.containment
                or (self.lead >= t.lead and self.containment >= t.lead_containment))


def scores(a: Fingerprint | Candidate, b: Fingerprint | Candidate) -> Scores:
    if a.minhash is None or b.minhash is None:
        return Scores(0.0, 0.0, 0.0)
    j = jaccard(a.minhash, b.minhash)
    lead = jaccard(a.lead_minhash, b.lead_minhash) if a.lead_minhash and b.lead_minhash else 0.0
    return Scores(j, containment(j, a.shingle_count, b.shingle_count), lead)


PREFILTER = 0.2  # a candidate estimated under this (containment and lead) is not read
VERIFY_AT_MOST = 6  # texts read per new item, best estimates first


def judge(item: Fingerprint | Candidate, other: Fingerprint | Candidate, item_text: str | None,
          other_text: str | None, t: Thresholds = Thresholds()) -> float | None:
    """The verdict on one pair: the similarity if `item` is a copy of `other`, else None.
    Jaccard or a matching lead decide from the signatures; containment alone (which overshoots
    when the lengths differ) and rewrites (under every threshold) are settled on the texts."""
    s = scores(item, other)
    estimate = s.is_copy(t)
    if item_text is None or other_text is None:
        return max(s.jaccard, s.containment) if estimate else None
    if max(s.containment, s.lead) < PREFILTER:
        return None
    al = verify.align(item_text, other_text)
    v = verify.Verdicts(rewrite=t.rewrite)
    if (estimate and not verify.shares_background(al, v)) or verify.is_rewrite(al, v):
        return max(al.containment, s.jaccard, s.containment)
    return None


class Matcher:
    """The verdict storage asks for: the best candidate story this item is a copy of. The
    candidates are every indexed member of the stories in the window (so a story's first text
    stays matchable when a fuller copy represents it); at most `VERIFY_AT_MOST` texts are read."""

    def __init__(self, thresholds: Thresholds = Thresholds()) -> None:
        self.thresholds = thresholds

    def bands(self, minhash: bytes, lead_minhash: bytes | None) -> tuple[int, ...]:
        return band_keys(list(unpack(minhash)), list(unpack(lead_minhash)) if lead_minhash
                         else None)

    def choose(self, item: Fingerprint, candidates: list[Candidate],
               text: str | None = None) -> MatchDecision | None:
        ranked = sorted(candidates, key=lambda c: _estimate(item, c), reverse=True)
        best: tuple[float, Candidate] | None = None
        for c in ranked[:VERIFY_AT_MOST] if text is not None else ranked:
            similarity = judge(item, c, text, c.text, self.thresholds)
            if similarity is not None and (best is None or similarity > best[0]):
                best = (similarity, c)
        if best is None:
            return None
        similarity, c = best
        # an update or a fuller copy (the candidate is mostly inside it) becomes the text
        fuller = (item.word_count > c.word_count * 1.1 and c.is_representative
                  and similarity >= self.thresholds.containment)
        return MatchDecision(c.story_id, round(similarity, 4), fuller)


def _estimate(item: Fingerprint, c: Candidate) -> float:
    s = scores(item, c)
    return max(s.jaccard, s.containment, s.lead)
