"""Why an item matched a topic, in plain words, for `monitor show`, alerts and the database.

`hit` builds the stored TopicHit with its reason; `render` gives the reason of any hit, also of
one read back from the database (alert templates call it). A reason reads like
``defections: 'asylum' in the title, state people in the lead; rule: asylum, diplomat*;
score 0.93``: the model's strongest evidence first, then the spellings the rule matched
(those in the title marked so), then the score (the model's probability, or the rule's score
against the threshold when the topic has no model). Possible matches say so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from monitor.matching.rules import Document
from monitor.matching.text import one_line
from storage.records import TopicHit

MAX_TERMS = 4


def spelling(term: str) -> str:
    """A matched term without the alias group it came from ('@leaving:asylum' -> 'asylum')."""
    return term.split(":", 1)[1] if term.startswith("@") and ":" in term else term


def in_title(doc: Document, terms: Sequence[str]) -> tuple[str, ...]:
    """The matched spellings, those that occur in the title marked '(title)'."""
    title = set(doc.fields.get("title", ()))
    out = []
    for term in dict.fromkeys(spelling(t) for t in terms):
        first = term.split()[0].rstrip("*") if term.split() else term
        here = any(w.startswith(first) for w in title) if term.endswith("*") or " " in term \
            else first in title
        out.append(f"{term} (title)" if here else term)
    return tuple(sorted(out, key=lambda t: not t.endswith("(title)")))


def render(hit: TopicHit, threshold: float | None = None) -> str:
    """The reason of a hit in one line of plain words."""
    parts = list(hit.evidence)
    if hit.matched:
        shown = list(hit.matched[:MAX_TERMS])
        more = len(hit.matched) - len(shown)
        parts.append("rule: " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    elif hit.probability is not None:
        parts.append("the rule did not match")
    if hit.probability is not None:
        score = f"score {hit.probability:.2f}"
    else:
        score = f"rule score {hit.score:g}" + (f" of {threshold:g}" if threshold else "")
    head = f"{hit.topic} (possible)" if hit.state == "possible" else hit.topic
    return f"{head}: {', '.join(parts)}; {score}" if parts else f"{head}: {score}"


def hit(topic: str, state: str, value: float, terms: Sequence[str], doc: Document,
        probability: float | None, evidence: tuple[str, ...]) -> TopicHit:
    shown = TopicHit(topic, value, in_title(doc, terms), state, probability, evidence)
    return replace(shown, matched=tuple(sorted(terms)), reason=render(shown))


def reason(hit: TopicHit) -> str:
    """The reason to show for a hit: the stored one, or rendered from its parts (hits stored
    before reasons were kept have none)."""
    return hit.reason or render(hit)


def hits_of(stored: str | None) -> list[TopicHit]:
    """The hits of one item from the JSON rows `storage.queries.story` returns."""
    out = []
    for t in json.loads(stored or "[]"):
        out.append(TopicHit(t["topic"], t["score"], tuple(t["matched"] or ()),
                            t["state"] or "match", t["probability"],
                            tuple(t["evidence"] or ()), t["reason"] or ""))
    return sorted(out, key=lambda h: (h.state != "match", h.topic))


def why_lines(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """`monitor show`: why each sighting of a story belongs to its topics, in plain words."""
    lines = []
    for item in items:
        for h in hits_of(item.get("topic_hits")):
            lines.append(f"  why ({item['outlet']}, item {item['id']}): {one_line(reason(h), 400)}")
    return lines
