"""Near-duplicate detection — pure functions: shingles, MinHash signatures, LSH bands, the verdict.

An item's text is split into paragraphs; credit lines (monitor.matching.wire) and the outlet's
own boilerplate paragraphs are dropped; the rest is normalised (monitor.matching.text, ZWNJ
dropped) and cut into shingles. Two MinHash signatures are made with the same permutations:

* the *full* signature over every shingle of the body;
* the *lead* signature over the first `LEAD_WORDS` words after the first paragraph. Copies cut
  to their first paragraphs keep this part even when an editor rewrote the lede, so it finds
  truncated copies whose full-text Jaccard is low.

Band keys (LSH) are 47-bit hashes of the band number and the band's rows (six bytes each in
SQLite). A story's first item, representative and newest members in the window are indexed
(storage.stories, a bounded number per story), with extra low-threshold bands for light
rewrites; `judge` accepts a candidate when its estimated Jaccard is
high, or when the smaller text is mostly contained in the larger one (a cut copy, or an update
with paragraphs added), unless the stored texts show a distinct article that reuses background;
or, on the texts, when it is a light rewrite (monitor.matching.verify). The texts' paragraph
shingles for that check are made with the fingerprint (by a worker) and remembered by the
`Matcher`, so the write transaction only counts shingles in sets. Thresholds and the
shingle kind were chosen by measurement on tests/data (see benchmarks/shingles.py,
benchmarks/related.py and the README).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections import OrderedDict
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
                shingle: str = SHINGLE, shingled: bytes | None = None, *,
                normed: Mapping[str, str] | None = None) -> Fingerprint:
    """Fingerprint an item's text, without its credits and the outlet's boilerplate lines.
    `boilerplate` is the set of paragraph hashes to leave out, or a lookup that is given the
    text's paragraph hashes and answers which of them are boilerplate. A text long enough to
    judge also gets its paragraph shingles for exact verification (`verify.Shingled`, of the
    whole text: boilerplate does not change them), unless `shingled` already has them.
    `normed`: the search form of every paragraph (`paragraphs`), when the caller has them."""
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
    shingles_ = list(set(grams))  # MinHash ignores order
    if len(tokens) < MIN_WORDS or not shingles_:
        return Fingerprint(text_hash, len(tokens), len(shingles_), None, None, (),
                           params_tag(shingle), hashes)
    full = _minhash(shingles_)
    lead_tokens = lead_words[:LEAD_WORDS]
    lead = None
    if len(lead_tokens) >= 30:
        if skip is not None and shingle.startswith("c"):  # the lead's are a run of the text's
            start = sum(map(len, tokens[:skip]))
            lead_grams = grams[start:start + sum(map(len, lead_tokens)) - int(shingle[1:]) + 1]
        else:
            lead_grams = _token_shingles(lead_tokens, shingle)
        lead = _minhash(list(set(lead_grams)))
    shingled = _shingled(text or "", normed, dict(zip(lines, hashes, strict=True)), common,
                         shingled)
    return Fingerprint(
        text_hash=text_hash, word_count=len(tokens), shingle_count=len(shingles_),
        minhash=_pack(full), lead_minhash=_pack(lead[:LEAD_BANDS * LEAD_ROWS]) if lead else None,
        bands=band_keys(full, lead), params=params_tag(shingle), line_hashes=hashes,
        shingled=shingled)


def _shingled(text: str, normed: Mapping[str, str], line_hashes: dict[str, int],
              common: Collection[int], made: bytes | None) -> bytes:
    """The text's paragraph shingles for verification (`made` before, by a worker, or made
    now), without the outlet's boilerplate paragraphs. Lines are known by the low 32 bits of
    their hash."""
    ids = {h & 0xFFFFFFFF for h in common}
    if made is None:
        ids_of = {line: h & 0xFFFFFFFF for line, h in line_hashes.items()}
        shingled = verify.Shingled.of_text(text, normed, ids_of)
    elif not ids:
        return made
    else:
        shingled = verify.Shingled.of_blob(made)
    return (shingled.without(ids) if ids else shingled).blob()


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
    """The share of equal values of two signatures: the zero 32-bit lanes of their XOR (one
    big-integer operation instead of a loop over the values)."""
    size = min(len(a), len(b)) // 4 * 4
    if not size:
        return 0.0
    xor = int.from_bytes(a[:size], "little") ^ int.from_bytes(b[:size], "little")
    return memoryview(xor.to_bytes(size, "little")).cast("I").tolist().count(0) / (size // 4)


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
CACHE_BYTES = 16 << 20  # recent texts' paragraph shingles kept by the matcher (4 bytes each)

Text = str | verify.Shingled


def judge(item: Fingerprint | Candidate, other: Fingerprint | Candidate, item_text: Text | None,
          other_text: Text | None, t: Thresholds = Thresholds(),
          s: Scores | None = None) -> float | None:
    """The verdict on one pair: the similarity if `item` is a copy of `other`, else None.
    Jaccard or a matching lead decide from the signatures; containment alone (which overshoots
    when the lengths differ) and rewrites (under every threshold) are settled on the texts
    (given as text or as their `verify.Shingled`). `s`: the pair's scores, if already made."""
    s = s or scores(item, other)
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
    candidates are the indexed members of the stories in the window (each story's first item,
    representative and newest members: its first text stays matchable when a fuller copy
    represents it); at most `VERIFY_AT_MOST` texts are read.

    The matcher lives as long as the daemon and remembers the paragraph shingles of the texts it
    saw last (`CACHE_BYTES`, least recently used out first), keyed by the text itself: a new
    item's come from its fingerprint, made by a worker, and serve again when it is a candidate;
    a candidate it does not remember (after a restart) is shingled from its stored text."""

    def __init__(self, thresholds: Thresholds = Thresholds()) -> None:
        self.thresholds = thresholds
        self._shingled: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._cached = 0

    def bands(self, minhash: bytes, lead_minhash: bytes | None) -> tuple[int, ...]:
        return band_keys(list(unpack(minhash)), list(unpack(lead_minhash)) if lead_minhash
                         else None)

    def choose(self, item: Fingerprint, candidates: list[Candidate],
               text: str | None = None) -> MatchDecision | None:
        ranked = sorted(((scores(item, c), c) for c in candidates), key=_estimate, reverse=True)
        best: tuple[float, Candidate] | None = None
        own: verify.Shingled | None = None
        joined: set[int] = set()  # stories a candidate was accepted of
        for s, c in ranked[:VERIFY_AT_MOST] if text is not None else ranked:
            if c.story_id in joined and not c.is_representative:
                continue  # its story is settled; only the representative may say "fuller"
            if own is None and text is not None and c.text is not None \
                    and max(s.containment, s.lead) >= PREFILTER:
                own = self.shingled(text, item.shingled)
                own.union()  # built once: every comparison of this item reads it
            other = self.shingled(c.text) if own is not None and c.text is not None else None
            similarity = judge(item, c, own, other, self.thresholds, s)
            if similarity is None:
                continue
            joined.add(c.story_id)
            if best is None or similarity > best[0]:
                best = (similarity, c)
        if own is None and text is not None and item.shingled:
            self._remember((len(text), hash(text)), item.shingled)  # for later items
        if best is None:
            return None
        similarity, c = best
        # an update or a fuller copy (the candidate is mostly inside it) becomes the text
        fuller = (item.word_count > c.word_count * 1.1 and c.is_representative
                  and similarity >= self.thresholds.containment)
        return MatchDecision(c.story_id, round(similarity, 4), fuller)

    def shingled(self, text: str, made: bytes = b"") -> verify.Shingled:
        """The text's paragraph shingles: remembered, `made` (by a worker) or made now."""
        key = (len(text), hash(text))
        blob = self._shingled.get(key)
        if blob is not None:
            self._shingled.move_to_end(key)
            return verify.Shingled.of_blob(blob)
        shingled = verify.Shingled.of_blob(made) if made else verify.Shingled.of_text(text)
        self._remember(key, made or shingled.blob())
        return shingled

    def _remember(self, key: tuple[int, int], blob: bytes) -> None:
        old = self._shingled.pop(key, None)
        self._cached += len(blob) - (len(old) if old is not None else 0)
        self._shingled[key] = blob
        while self._cached > CACHE_BYTES:
            self._cached -= len(self._shingled.popitem(last=False)[1])


def _estimate(scored: tuple[Scores, Candidate]) -> float:
    s = scored[0]
    return max(s.jaccard, s.containment, s.lead)
