"""Exact verification of a near-duplicate candidate on the two stored texts.

MinHash estimates of containment overshoot when one text is much longer than the other, and a
light rewrite (words swapped, sentences shortened) keeps only 40-70 % of its source's shingles,
under any threshold that also keeps distinct articles apart. Both are settled here, on the texts
themselves, paragraph by paragraph:

* ``containment``: the exact share of the smaller text's shingles (nine characters, spaces left
  out) found in the larger one;
* ``own``/``own_share``: the smaller text's paragraphs with almost nothing (under `OWN_BELOW`)
  in the larger one. A rewrite changes every paragraph a little; a distinct article that reuses
  background paragraphs verbatim has whole paragraphs of its own (its news): two or more, 30 %
  of its text, and it is not a copy, whatever the estimates say (`shares_background`);
* ``novel``, ``lead``: the share under `NOVEL_BELOW`, and whether the first paragraph is found:
  a light rewrite has (almost) no novel paragraph and keeps its lead (`is_rewrite`).

Short lines (credits, "follow us" lines under `MIN_PARAGRAPH_WORDS` words) are left out, and so
are shingles found in `REPEATED` or more paragraphs of one text (a template sentence counts as
neither found nor missed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monitor.matching import wire
from monitor.matching.text import search_form, words

MIN_PARAGRAPH_WORDS = 8
NOVEL_BELOW = 0.3  # a paragraph with less of its shingles in the other text is not a copy's
OWN_BELOW = 0.1  # and under this, a paragraph of its own (not even an edited copy)
REPEATED = 3  # paragraphs of one text that share a shingle: a template, left out
SHINGLE_CHARS = 9  # longer than the index's five: a paragraph shares them only with its copies


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


def _paragraph_shingles(text: str) -> list[tuple[set[str], int]]:
    """Each long enough paragraph's shingles, without those found in `REPEATED` or more
    paragraphs of the same text (a template sentence says nothing about the story: it is
    neither found nor missed), and how many it had."""
    lines = wire.strip_credits([p.strip() for p in text.splitlines() if p.strip()])
    out = []
    for line in lines:
        tokens = words(search_form(line))
        if len(tokens) < MIN_PARAGRAPH_WORDS:
            continue
        compact = "".join(tokens)  # spaces left out, as in the index (Persian compounds)
        out.append({compact[i:i + SHINGLE_CHARS]
                    for i in range(max(1, len(compact) - SHINGLE_CHARS + 1))})
    seen = Counter(sh for shingles in out for sh in shingles)
    return [({sh for sh in shingles if seen[sh] < REPEATED}, len(shingles)) for shingles in out]


def align(a: str, b: str) -> Alignment:
    """Compare two texts (either order): the smaller one, paragraph by paragraph, in the other."""
    pa, pb = _paragraph_shingles(a), _paragraph_shingles(b)
    sa: set[str] = set().union(*(p for p, _ in pa))
    sb: set[str] = set().union(*(p for p, _ in pb))
    if not sa or not sb:
        return Alignment(0.0, 1.0, False, 0.0)
    small, large = (pa, sb) if len(sa) <= len(sb) else (pb, sa)
    total = found = novel = own = own_size = 0
    lead = False
    for index, (shingles, size) in enumerate(small):
        inside = len(shingles & large)
        share = inside / size
        total += size
        found += inside
        if share < OWN_BELOW:
            own += 1
            own_size += size
        if share < NOVEL_BELOW:
            novel += size
        elif index == 0:
            lead = True
    return Alignment(round(found / total, 4), round(novel / total, 4), lead,
                     round(max(len(sa), len(sb)) / min(len(sa), len(sb)), 3), own,
                     round(own_size / total, 4))


def shares_background(al: Alignment, v: Verdicts = Verdicts()) -> bool:
    """A distinct article that reuses background: whole paragraphs of its own (at least
    `background_own`, `background_novel` of its text), whatever the estimates say. A copy has at
    most one (a rewritten lede)."""
    return al.own >= v.background_own and al.own_share >= v.background_novel


def is_rewrite(al: Alignment, v: Verdicts = Verdicts()) -> bool:
    """A light rewrite: every paragraph partly found, the lead among them."""
    return al.lead and al.containment >= v.rewrite and al.novel <= v.rewrite_novel
