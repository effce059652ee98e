"""Related coverage: the same event in other words (same language) or in the other language.

Computed only for items that passed the topic stage (zero cost for the others): `features`
gives their anchors (monitor.matching.anchors), content words and, with the optional model
(monitor.matching.embed), an embedding of the title and lead. The `Linker` decides, inside the
write transaction, which earlier stories (their first items, within the link window) a new
story is related to. Links are never merges: copies are the dedup stage's business.

* same language (``same_event``): at least `min_anchors` shared anchors that say something
  (places, institutions, numbers, names: not weekdays), one of them specific (a number, a name,
  a place other than the capital: `anchors.specific`), and a text similarity: the overlap of
  their content words, or the cosine of the embeddings when both have one;
* other language (``translation``): the embeddings' mutual nearest neighbours among the window's
  items of the two languages, the best ahead of the second by `margin`, over `cosine`, and at
  least `min_anchors` shared anchors, one specific. Without the model: the story sharing the
  most anchors, at least `no_model_anchors` with a number (not a year) among them.

Thresholds were chosen on tests/data/related_events.json (see benchmarks/related.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from monitor.matching import anchors, embed
from storage.records import LinkCandidate, LinkDecision, RelatedFeatures


def features(title: str, text: str, language: str, *, use_model: bool = True,
             normalised: str | None = None) -> RelatedFeatures:
    """`normalised`: the search form of title and text joined by a line break, when the caller
    has it (text.joined_search_form)."""
    vector = embed.embed(title, text) if use_model else None
    found, terms = anchors.anchors_and_terms(title, text, normalised)
    return RelatedFeatures(language, found, terms, vector,
                           embed.MODEL if vector is not None else None)


@dataclass(frozen=True)
class Linker:
    min_anchors: int = 2
    terms: float = 0.22  # content-word overlap (shared / the smaller list), same language
    same_cosine: float = 0.93  # embedding cosine, same language (without enough shared words)
    cosine: float = 0.8  # embedding cosine floor, across languages
    margin: float = 0.005  # the partner ahead of the second best
    no_model_anchors: int = 3

    def link(self, item: RelatedFeatures,
             candidates: list[LinkCandidate]) -> list[LinkDecision]:
        out = [d for c in candidates if c.features.language == item.language
               if (d := self._same_event(item, c)) is not None]
        cross = self._translation(item, candidates)
        if cross is not None:
            out.append(cross)
        best: dict[int, LinkDecision] = {}
        for d in out:
            if d.other_story_id not in best or d.score > best[d.other_story_id].score:
                best[d.other_story_id] = d
        return sorted(best.values(), key=lambda d: d.other_story_id)

    def _same_event(self, item: RelatedFeatures, c: LinkCandidate) -> LinkDecision | None:
        shared = anchors.strong(set(item.anchors) & set(c.features.anchors))
        if len(shared) < self.min_anchors or not anchors.specific(shared):
            return None
        scores = {"terms": round(_overlap(item.terms, c.features.terms), 4)}
        if item.embedding is not None and c.features.embedding is not None:
            scores["cosine"] = round(_cosine(item, c.features), 4)
        if scores["terms"] < self.terms and scores.get("cosine", 0.0) < self.same_cosine:
            return None
        sim = max(scores["terms"], scores.get("cosine", 0.0))
        return LinkDecision(c.story_id, "same_event", sim, _evidence(shared, scores))

    def _translation(self, item: RelatedFeatures,
                     candidates: list[LinkCandidate]) -> LinkDecision | None:
        others = [c for c in candidates if c.features.language != item.language]
        if item.embedding is None:
            return self._by_anchors(item, others)
        scored = sorted(((_cosine(item, c.features), c) for c in others
                         if c.features.embedding is not None), key=lambda t: -t[0])
        if not scored or scored[0][0] < self.cosine:
            return None
        top, partner = scored[0]
        second = scored[1][0] if len(scored) > 1 else 0.0
        if top - second < self.margin:
            return None
        rivals = [_cosine(partner.features, c.features) for c in candidates
                  if c.features.language == item.language and c.features.embedding is not None]
        if rivals and max(rivals) >= top:  # not mutual: the partner has a nearer neighbour
            return None
        shared = anchors.strong(set(item.anchors) & set(partner.features.anchors))
        if len(shared) < self.min_anchors or not anchors.specific(shared):
            return None
        return LinkDecision(partner.story_id, "translation", top, _evidence(
            shared, {"cosine": round(top, 4), "margin": round(top - second, 4)}))

    def _by_anchors(self, item: RelatedFeatures,
                    others: list[LinkCandidate]) -> LinkDecision | None:
        found = []
        for c in others:
            shared = anchors.strong(set(item.anchors) & set(c.features.anchors))
            kinds = {a.split(":", 1)[0] for a in anchors.specific(shared)}
            if len(shared) >= self.no_model_anchors and "num" in kinds:
                found.append((len(shared), c, shared))
        if not found:
            return None
        n, c, shared = max(found, key=lambda t: (t[0], -t[1].story_id))  # ties: the earliest
        return LinkDecision(c.story_id, "translation", float(n), _evidence(shared, {}))


def _cosine(a: RelatedFeatures, b: RelatedFeatures) -> float:
    assert a.embedding is not None and b.embedding is not None
    return embed.cosine(embed.vector(a.embedding), embed.vector(b.embedding))


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a or not b:
        return 0.0
    return len(set(a) & set(b)) / min(len(a), len(b))


def _evidence(shared: set[str], scores: dict[str, float]) -> str:
    return json.dumps({"anchors": sorted(shared), **scores}, ensure_ascii=False)


LINKER = Linker()
