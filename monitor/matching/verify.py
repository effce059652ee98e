"""Exact verification of a near-duplicate candidate on the two texts.

MinHash estimates of containment overshoot when one text is much longer than the other, and a
light rewrite (words swapped, sentences shortened) keeps only 40-70 % of its source's shingles,
under any threshold that also keeps distinct articles apart. Both are settled here, on the texts
themselves, paragraph by paragraph:

* ``containment``: the exact share of the smaller text's shingles (nine characters, spaces left
  out) found in the larger one;
* ``own``/``own_share``: the smaller text's paragraphs of its own: almost nothing (under
  `OWN_BELOW`) in the larger one, or under `NOVEL_BELOW` in one unbroken stretch only (a name or
  a phrase both articles use, where an edited copy of a paragraph keeps several pieces of it).
  A rewrite changes every paragraph a little; a distinct article that reuses background
  paragraphs verbatim has whole paragraphs of its own (its news): two or more, 30 % of its
  text, and it is not a copy, whatever the estimates say (`shares_background`);
* ``novel``, ``lead``: the share under `NOVEL_BELOW`, and whether the first paragraph is found:
  a light rewrite has (almost) no novel paragraph and keeps its lead (`is_rewrite`).

Short lines (credits, "follow us" lines under `MIN_PARAGRAPH_WORDS` words) are left out, and so
are shingles found in `REPEATED` or more paragraphs of one text (a template sentence counts as
neither found nor missed).

Cost: a text is cut into shingles once (`Shingled`, made by a worker with the fingerprint and
carried as compact bytes; see dedup.Matcher for the ones it remembers), and a comparison builds
the set of one text only, then counts each paragraph of the smaller one in it.
"""

from __future__ import annotations

import zlib
from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain

from monitor.matching import wire
from monitor.matching.text import search_form, words

MIN_PARAGRAPH_WORDS = 8
NOVEL_BELOW = 0.3  # a paragraph with less of its shingles in the other text is not a copy's
OWN_BELOW = 0.1  # and under this, a paragraph of its own (not even an edited copy)
REPEATED = 3  # paragraphs of one text that share a shingle: a template, left out
SHINGLE_CHARS = 9  # longer than the index's five: a paragraph shares them only with its copies
_crc = zlib.crc32


def _char_shingles(compact: str) -> Iterable[int]:
    """The CRC-32 of the UTF-8 of every run of `SHINGLE_CHARS` characters, in order. An ASCII
    text (one byte a character) is encoded once and its bytes sliced: the same values, a third
    less time than encoding every slice."""
    starts = range(max(1, len(compact) - SHINGLE_CHARS + 1))
    if compact.isascii():
        data = compact.encode("ascii")
        return map(_crc, [data[i:i + SHINGLE_CHARS] for i in starts])
    return (_crc(compact[i:i + SHINGLE_CHARS].encode("utf-8")) for i in starts)


@dataclass(frozen=True)
class Alignment:
    containment: float  # exact, smaller text in the larger
    novel: float  # share of the smaller text in paragraphs of its own
    lead: bool  # the smaller text's first paragraph is found in the larger
    ratio: float  # larger / smaller, in shingles
    own: int = 0  # paragraphs of the smaller text of its own
    own_share: float = 0.0  # their share of it


@dataclass(frozen=True)
class Verdicts:
    """Thresholds of the verified verdicts (chosen on tests/data/related_events.json and the
    dedup set, see benchmarks/related.py)."""

    background_own: int = 2  # paragraphs of its own that make a distinct article
    background_novel: float = 0.3  # and their share of its text
    rewrite: float = 0.4  # a rewrite the estimate missed: at least this much contained
    rewrite_novel: float = 0.1  # and almost no paragraph of its own


class Shingled:
    """A text's paragraphs as verification reads them: each long enough paragraph's distinct
    shingles in the order they occur, as stable 32-bit hashes (CRC-32 of the UTF-8 shingle: the
    same in every process, unlike Python's `hash`), without the template ones, and how many it
    had. Made once per text (by
    the worker, with the fingerprint) and carried as compact bytes (`blob`, about four bytes a
    shingle); the set of all its shingles is built only when a comparison needs it."""

    __slots__ = ("_union", "lines", "runs", "sizes", "unique")

    def __init__(self, sizes: list[int], runs: list[array[int]], unique: int,
                 lines: list[int] | None = None) -> None:
        self.sizes = sizes  # shingles of each paragraph, templates included
        self.runs = runs  # its kept shingles (each once)
        self.unique = unique  # distinct kept shingles of the whole text
        self.lines = lines or [0] * len(sizes)  # its line's id (see `without`), 0: unknown
        self._union: set[int] | None = None

    @classmethod
    def of_text(cls, text: str, normed: Mapping[str, str] | None = None,
                line_ids: Mapping[str, int] | None = None) -> Shingled:
        """`normed`: search forms of some of the text's lines, already made (the fingerprint's);
        `line_ids`: the ids of its lines, to leave some out later (`without`)."""
        lines = wire.strip_credits([p.strip() for p in text.splitlines() if p.strip()])
        out, sizes, ids = [], [], []
        for line in lines:
            norm = normed.get(line) if normed else None
            tokens = words(norm if norm is not None else search_form(line))
            if len(tokens) < MIN_PARAGRAPH_WORDS:
                continue
            compact = "".join(tokens)  # spaces left out, as in the index (Persian compounds)
            shingles = dict.fromkeys(_char_shingles(compact))
            out.append(shingles)
            sizes.append(len(shingles))
            ids.append(line_ids.get(line, 0) if line_ids else 0)
        seen = Counter(chain.from_iterable(out))  # in how many paragraphs each shingle is
        repeated = {sh for sh, n in seen.items() if n >= REPEATED}
        runs = [array("I", [sh for sh in shingles if sh not in repeated] if repeated
                      else shingles) for shingles in out]
        return cls(sizes, runs, len(seen) - len(repeated), ids)

    @classmethod
    def of_blob(cls, blob: bytes) -> Shingled:
        values = array("I")
        values.frombytes(blob)
        n = values[0]
        sizes, lengths = list(values[1:1 + n]), values[1 + n:1 + 2 * n]
        lines = list(values[1 + 2 * n:1 + 3 * n])
        runs, at = [], 2 + 3 * n
        for length in lengths:
            runs.append(values[at:at + length])
            at += length
        return cls(sizes, runs, values[1 + 3 * n], lines)

    def blob(self) -> bytes:
        head = array("I", [len(self.sizes), *self.sizes, *(len(r) for r in self.runs),
                           *self.lines, self.unique])
        return head.tobytes() + b"".join(r.tobytes() for r in self.runs)

    def without(self, line_ids: Collection[int]) -> Shingled:
        """The paragraphs of the lines not in `line_ids` (an outlet's learnt boilerplate: a
        newsletter line is not a paragraph of the article's own)."""
        keep = [i for i, line in enumerate(self.lines) if not line or line not in line_ids]
        runs = [self.runs[i] for i in keep]
        return Shingled([self.sizes[i] for i in keep], runs, len(set().union(*runs)),
                        [self.lines[i] for i in keep])

    def union(self) -> set[int]:
        if self._union is None:
            self._union = set().union(*self.runs)
        return self._union


def align(a: str | Shingled, b: str | Shingled) -> Alignment:
    """Compare two texts (either order): the smaller one, paragraph by paragraph, in the other.
    Only one text's set of shingles is built (the one already built, if either is)."""
    sa = a if isinstance(a, Shingled) else Shingled.of_text(a)
    sb = b if isinstance(b, Shingled) else Shingled.of_text(b)
    if not sa.unique or not sb.unique:
        return Alignment(0.0, 1.0, False, 0.0)
    small, large = (sa, sb) if sa.unique <= sb.unique else (sb, sa)
    if large._union is not None or small._union is None:
        member = large.union()
    else:  # the shared shingles, from the small text's set and the large text's runs
        member = small.union().intersection(chain.from_iterable(large.runs))
    inside = [len(member.intersection(run)) for run in small.runs]
    return _alignment(small, inside, member, large.unique / small.unique)


def _one_phrase(run: array[int], member: set[int]) -> bool:
    """Whether the paragraph's shingles found in the other text are one unbroken stretch: a
    name or a phrase the two share, not an edited copy (which keeps several pieces)."""
    stretches, previous = 0, False
    for sh in run:
        found = sh in member
        stretches += found and not previous
        previous = found
    return stretches <= 1


def _alignment(small: Shingled, inside: list[int], member: set[int],
               ratio: float) -> Alignment:
    total = found = novel = own = own_size = 0
    lead = False
    for index, (size, got) in enumerate(zip(small.sizes, inside, strict=True)):
        share = got / size
        total += size
        found += got
        if share < OWN_BELOW or (share < NOVEL_BELOW and _one_phrase(small.runs[index], member)):
            own += 1
            own_size += size
        if share < NOVEL_BELOW:
            novel += size
        elif index == 0:
            lead = True
    return Alignment(round(found / total, 4), round(novel / total, 4), lead, round(ratio, 3),
                     own, round(own_size / total, 4))


def shares_background(al: Alignment, v: Verdicts = Verdicts()) -> bool:
    """A distinct article that reuses background: whole paragraphs of its own (at least
    `background_own`, `background_novel` of its text), whatever the estimates say. A copy has at
    most one (a rewritten lede)."""
    return al.own >= v.background_own and al.own_share >= v.background_novel


def is_rewrite(al: Alignment, v: Verdicts = Verdicts()) -> bool:
    """A light rewrite: every paragraph partly found, the lead among them."""
    return al.lead and al.containment >= v.rewrite and al.novel <= v.rewrite_novel
