"""Record types of matching: dedup fingerprints and the matcher protocol the story assignment
asks, related-coverage features, links and the linker protocol. Re-exported by
storage.records, where every record type of the Store can be imported from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Fingerprint:
    """What dedup needs of an item's text, computed by the monitor before the write.

    ``minhash``/``lead_minhash`` are little-endian uint32 arrays (None when the text is too short
    to judge); ``bands`` are the LSH keys of both signatures; ``params`` names how it was made.
    The store saves the signatures and bands; ``shingled`` only travels to the matcher.
    """

    text_hash: int
    word_count: int
    shingle_count: int
    minhash: bytes | None
    lead_minhash: bytes | None
    bands: tuple[int, ...]
    params: str
    line_hashes: tuple[int, ...] = ()  # paragraph hashes, for per-outlet boilerplate counts
    # the text's paragraph shingles for the matcher's exact verification, made with the rest by
    # a worker (compact, opaque here and never stored; empty: the matcher makes them itself)
    shingled: bytes = b""


@dataclass(frozen=True)
class Candidate:
    """A member of a story in the window (its representative or another copy), offered to the
    matcher with its stored text, which the matcher reads only to verify a close estimate."""

    story_id: int
    item_id: int
    word_count: int
    shingle_count: int
    minhash: bytes | None
    lead_minhash: bytes | None
    text: str | None = None
    is_representative: bool = True


@dataclass(frozen=True)
class MatchDecision:
    story_id: int
    similarity: float
    make_representative: bool = False  # the new item is a fuller copy: it becomes the story's text


class StoryMatcher(Protocol):
    """Decides, inside the write transaction, which candidate story a new item is a copy of."""

    def choose(self, item: Fingerprint, candidates: list[Candidate],
               text: str | None = None) -> MatchDecision | None: ...

    def bands(self, minhash: bytes, lead_minhash: bytes | None) -> tuple[int, ...]:
        """The LSH keys of stored signatures (to take an item out of the index)."""
        ...


@dataclass(frozen=True)
class RelatedFeatures:
    """What related-coverage links need of an item that passed the topic stage, computed by the
    monitor (monitor.matching.related): its anchors (places, institutions, numbers, names,
    weekdays), its most frequent content words and, with the optional model, its embedding
    (little-endian float32, normalised)."""

    language: str
    anchors: tuple[str, ...]
    terms: tuple[str, ...]
    embedding: bytes | None = None
    model: str | None = None


@dataclass(frozen=True)
class LinkCandidate:
    """The first item of another story in the link window, offered to the linker."""

    story_id: int
    item_id: int
    outlet: str
    seen_at: str
    features: RelatedFeatures


@dataclass(frozen=True)
class LinkDecision:
    other_story_id: int
    kind: str  # same_event | translation
    score: float
    evidence: str  # JSON: shared anchors, similarities, margin


class StoryLinker(Protocol):
    """Decides, inside the write transaction, which earlier stories a new story is related to
    (the same event in other words or in another language): links, never merges."""

    def link(self, item: RelatedFeatures,
             candidates: list[LinkCandidate]) -> list[LinkDecision]: ...


@dataclass(frozen=True)
class StoryLink:
    """A link as read back, seen from `story_id`: the other story and how they are related."""

    story_id: int
    other_story_id: int
    kind: str
    score: float
    evidence: str
    created_at: str
    other_headline: str
    other_first_outlet: str
    other_languages: str
    other_first_seen_at: str
