"""The second stage of topic judgement: a linear model over hashed features, combined with the
rules so that every decision can be explained.

The rules (monitor.matching.topics) say which spellings matched and where; this stage turns the
item into a set of *features* and adds up one learnt weight per feature:

- words of the title, of the lead (the first `LEAD` words of the text) and of the body (up to
  `DEEP` words), each zone apart: the subject of a story sits in its title and lead, a passing
  mention one clause deep in the body;
- word pairs and character 4-grams of the title and lead (Persian joins and splits its words in
  many ways; 4-grams catch a word's stem in all of them);
- rule-side features: whether the topic's rule matched and with what score, and for every alias
  group of the topics file (where: `iran_places`, `foreign_places`; who: `state_people`,
  `migrants`; senses: `history`, `sports_events`, ...) whether it occurs in the title, the lead or
  only deep in the body; each also paired with the item's language.

Features are hashed (CRC-32 of the feature's name, `BITS` bits), so the weights file holds
numbers only, no text. A topic's probability is the logistic of the sum; `accept` and
`possible` in topics.toml turn it into a decision. The features with the largest contributions
are kept as the decision's evidence, named after the item's own words ("'asylum' in the title").
A topic without weights (a topic the user added) is judged by its rule alone.
"""

from __future__ import annotations

import heapq
import math
import struct
import zlib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.matching import extent
from monitor.matching.rule_parser import parse
from monitor.matching.rules import And, Any_, Document, Hit, Node, Not, Phrase

BITS = 18
SIZE = 1 << BITS
MASK = SIZE - 1
LEAD = 40  # words of the text read as its lead
DEEP = 400  # words of the text the model reads at all
GRAM = 4
RULE_COPIES = 3  # each rule-side feature counts as this many (it weighs as much as many words)
WEIGHTS_FILE = Path(__file__).with_name("judge_weights.bin")
_MAGIC = b"FMJ1"

Features = dict[int, str]  # hashed feature -> the evidence it stands for, in plain words


@dataclass(frozen=True)
class Weights:
    """One topic's model: a bias and a table of SIZE weights (float32)."""

    bias: float
    table: array  # type: ignore[type-arg]
    rules: bool = True  # trained with the rule-side features

    def contributions(self, features: Features, top: int = 12) -> tuple[float, dict[str, float]]:
        """The logit and the summed contribution of the evidence behind the `top` strongest
        features."""
        values = list(map(self.table.__getitem__, features))
        pairs = zip(values, features.values(), strict=True)
        if len(values) > top:  # the strongest by value first, then (value, name) among those
            bar = heapq.nlargest(top, values)[-1]
            strongest = sorted([p for p in pairs if p[0] >= bar], reverse=True)[:top]
        else:
            strongest = sorted(pairs, reverse=True)
        by_label: dict[str, float] = {}
        for w, label in strongest:
            by_label[label] = by_label.get(label, 0.0) + w
        return self.bias + sum(values), by_label


@dataclass(frozen=True)
class RuleResult:
    """What the rule stage found for one topic."""

    matched: bool
    score: float
    threshold: float
    terms: tuple[str, ...]
    clauses: tuple[tuple[str, bool], ...] = ()  # each top-level AND clause: name, holds


def clause_name(node: Node) -> str:
    """A clause of a rule named by the first alias groups (or terms) in it: 'leaving',
    'not migrants'."""
    if isinstance(node, Not):
        return "not " + clause_name(node.part)
    names: list[str] = []
    stack = [node]
    while stack and len(names) < 2:
        n = stack.pop(0)
        if isinstance(n, Any_ | Phrase):
            names.append(n.label.lstrip("@"))
            continue
        for child in vars(n).values():
            if isinstance(child, Node):
                stack.append(child)
            elif isinstance(child, tuple):
                stack.extend(c for c in child if isinstance(c, Node))
    return "+".join(names) or "clause"


def clauses(rule: Node) -> tuple[tuple[str, Node], ...]:
    """The top-level AND clauses of a rule with their names."""
    parts = rule.parts if isinstance(rule, And) else (rule,)
    return tuple((clause_name(p), p) for p in parts)


@dataclass(frozen=True)
class Verdict:
    probability: float
    evidence: tuple[str, ...]  # the strongest pieces of evidence, strongest first


def feature_id(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) & MASK


_ZONES = {"t": "the title", "l": "the lead", "b": "the title or lead", "d": "the text"}


def describe(name: str) -> str:
    """A feature's name in plain words: 't asylum' -> "'asylum' in the title"."""
    kind, _, rest = name.partition(" ")
    if kind == "r":
        return _rule_label(rest)
    return f"'{rest}' in {_ZONES.get(kind, 'the text')}"


_CACHE: dict[str, tuple[int, ...]] = {}  # feature name -> its ids (the word's and its 4-grams)
CACHE_SIZE = 50_000  # names kept; words recur from article to article


def _ids(key: str, grams: bool) -> tuple[int, ...]:
    known = _CACHE.get(key)
    if known is not None:
        return known
    crc = zlib.crc32
    ids = [crc(key.encode()) & MASK]
    if grams:
        padded = f" {key[2:]} "
        ids += [crc(f"c {padded[k:k + GRAM]}".encode()) & MASK
                for k in range(len(padded) - GRAM + 1)]
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.clear()
    found = _CACHE[key] = tuple(ids)
    return found


def text_features(doc: Document) -> Features:
    """Words by zone, word pairs and character 4-grams of the title and lead. The value of
    each feature is the name of the word (or pair) it is evidence of."""
    out: Features = {}
    setdefault, known = out.setdefault, _CACHE.get
    title = doc.fields.get("title", ())
    text = doc.fields.get("text", ())[:DEEP]
    for zone, tokens in (("t", title), ("l", text[:LEAD])):
        previous = ""
        for w in tokens:
            key = f"{zone} {w}"
            for h in known(key) or _ids(key, True):
                setdefault(h, key)
            if previous:
                pair = f"b {previous} {w}"
                setdefault(feature_id(pair), pair)
            previous = w
    for w in text[LEAD:]:
        key = f"d {w}"
        setdefault((known(key) or _ids(key, False))[0], key)
    return out


def zones(hit: Hit) -> tuple[str, ...]:
    """Where an alias group occurs: in the title, the text's first `HEAD` words (a dateline:
    "TEHRAN -" says where the reporter sits, not where it happens), the lead, or only deeper."""
    out = []
    if hit.positions.get("title"):
        out.append("title")
    text = hit.positions.get("text", ())
    if any(p < HEAD for p in text):
        out.append("head")
    if any(HEAD <= p < LEAD for p in text):
        out.append("lead")
    elif text and not any(p < HEAD for p in text):
        out.append("deep")
    return tuple(out)


HEAD = 3  # words of the text that may be a dateline
HOME = ("@iran", "@iran_places", "@iran_state")  # alias groups that place a story in Iran
ABROAD = ("@world_places", "@foreign_places", "@other_regimes")  # ... in another country


def where(located: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Where the story happens, from the places named in its title and lead (a dateline left
    out): 'where iran', 'where abroad', 'where both' or 'where unsaid'; and 'dateline only'
    when Iran is named only in the first words (a foreign story reported from Tehran)."""
    def named(labels: tuple[str, ...], spots: tuple[str, ...]) -> bool:
        return any(z in spots for g in labels for z in located.get(g, ()))
    home, abroad = named(HOME, ("title", "lead")), named(ABROAD, ("title", "lead"))
    out = ["where " + {(True, True): "both", (True, False): "iran", (False, True): "abroad",
                       (False, False): "unsaid"}[(home, abroad)]]
    if not home and named(HOME, ("head",)):
        out.append("dateline only")
    return tuple(out)


_RULE_IDS: dict[tuple[str, str], tuple[int, ...]] = {}  # (rule feature, language) -> its ids


def group_zones(doc: Document, groups: Iterable[Any_]) -> tuple[str, ...]:
    """'@group zone' for every alias group and zone it occurs in, where the story is set, and
    how much of it the groups take (monitor.matching.extent); the same for every topic (the
    groups are the rules' own nodes: those the rules evaluated come from the memo)."""
    hits = {group.label: group.eval(doc, ("title", "text")) for group in groups}
    located = {label: zones(hit) for label, hit in hits.items()}
    spots = {label: (tuple(hit.positions.get("title", ())),
                     extent.text_spots(hit.positions.get("text", ()), HEAD))
             for label, hit in hits.items() if hit.matched}
    return tuple(f"{label} {zone}" for label, spots in located.items()
                 for zone in spots) + where(located) + tuple(extent.names(spots))


def rule_features(rule: RuleResult, where: Iterable[str], language: str,
                  out: Features) -> None:
    """The rule's verdict and the alias groups by zone (`group_zones`), each alone and with
    the language."""
    names = []
    if rule.matched:
        names.append("rule matched")
        names.append(f"rule score {min(int(rule.score), 8)}")
        if rule.score >= rule.threshold:
            names.append("rule above threshold")
    names += [f"clause {name} {'holds' if holds else 'fails'}" for name, holds in rule.clauses]
    names += where
    lang = language or "?"
    for name in names:
        key = f"r {name}"
        ids = _RULE_IDS.get((key, lang))
        if ids is None:
            ids = _RULE_IDS[(key, lang)] = tuple(
                feature_id(f"{key}{suffix}#{copy}") for copy in range(RULE_COPIES)
                for suffix in ("", f" {lang}"))
        for h in ids:
            out.setdefault(h, key)


def _rule_label(name: str) -> str:
    if name.startswith("rule"):
        return "the topic's rule" if name != "rule above threshold" else "the rule's score"
    if name.startswith("clause "):
        clause, state = name[7:].rsplit(" ", 1)
        if clause.startswith("not "):
            return f"no {clause[4:].replace('_', ' ')}" if state == "holds" \
                else f"{clause[4:].replace('_', ' ')} (an exclusion of the rule)"
        return f"{clause.replace('_', ' ')} (in the rule)" if state == "holds" \
            else f"no {clause.replace('_', ' ')}"
    if name.startswith("also "):
        return f"the {name[5:]} rule also matched"
    if name.startswith(("where ", "dateline ")):
        return _WHERE[name]
    if extent.is_extent(name):
        return extent.describe(name)
    group, zone = name.rsplit(" ", 1)
    spot = {"title": "in the title", "head": "in the first words", "lead": "in the lead",
            "deep": "deep in the text"}[zone]
    return f"{group.lstrip('@').replace('_', ' ')} {spot}"


_WHERE = {"where iran": "set in Iran", "where abroad": "set abroad",
          "where both": "Iran and abroad named", "where unsaid": "no place named",
          "dateline only": "Iran only in the dateline"}


def groups_of(rules: Iterable[Node]) -> tuple[Any_, ...]:
    """The alias groups the rules use, one node per name (the rules' own nodes, so that the
    document's memo serves both)."""
    seen: dict[str, Any_] = {}
    stack = list(rules)
    while stack:
        node = stack.pop()
        if isinstance(node, Any_) and node.label.startswith("@"):
            seen.setdefault(node.label, node)
            continue
        if isinstance(node, Phrase):
            continue
        if isinstance(node, Not):
            stack.append(node.part)
            continue
        for child in vars(node).values():
            if isinstance(child, Node):
                stack.append(child)
            elif isinstance(child, tuple):
                stack.extend(c for c in child if isinstance(c, Node))
    return tuple(seen[k] for k in sorted(seen))


def all_groups(rule_nodes: Iterable[Node], aliases: Mapping[str, tuple[str, ...]],
               ) -> tuple[Any_, ...]:
    """Every alias group of the topics file: the rules' own nodes, and the aliases no rule
    uses compiled apart (vocabularies kept for the model, such as the world's places)."""
    used = {g.label: g for g in groups_of(rule_nodes)}
    for name in aliases:
        if f"@{name}" not in used:
            node = parse(f"@{name}", aliases)
            if isinstance(node, Any_):
                used[node.label] = node
    return tuple(used[k] for k in sorted(used))


def features(doc: Document, rule: RuleResult | None, groups: Iterable[Any_],
             language: str, shared: dict[str, Any] | None = None, topic: str = "") -> Features:
    """All features of an item for one topic. `shared`: what does not depend on the topic
    (text features, alias groups' zones), computed once per document for every topic; its
    "rules" (topic name -> RuleResult), when given, add the other topics' rule hits ("also
    defections": a defection told with protest words is not a protest story)."""
    shared = {} if shared is None else shared
    if "text" not in shared:
        shared["text"] = text_features(doc)
    out = dict(shared["text"])
    if rule is not None:
        if "zones" not in shared:
            shared["zones"] = group_zones(doc, groups)
        others = tuple(f"also {name}" for name, r in shared.get("rules", {}).items()
                       if name != topic and r.matched and r.score >= r.threshold)
        rule_features(rule, shared["zones"] + others, language, out)
    return out


def verdict(weights: Weights, feats: Features, top: int = 3) -> Verdict:
    logit, by_label = weights.contributions(feats)
    probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    strongest = sorted((v, k) for k, v in by_label.items() if v > 0.05)[::-1][:top]
    return Verdict(probability, tuple(dict.fromkeys(describe(k) for _, k in strongest)))


# -- the weights file ----------------------------------------------------------------------------
# "FMJ1", the number of topics, then per topic: name length, name (UTF-8), uses-rules flag,
# bias (float64), non-zero count n, n bucket indexes (uint32) and n weights (float32).


def dump(models: dict[str, Weights]) -> bytes:
    parts = [_MAGIC, struct.pack("<I", len(models))]
    for name in sorted(models):
        m = models[name]
        keys = array("I", (i for i in range(SIZE) if m.table[i]))
        values = array("f", (m.table[i] for i in keys))
        encoded = name.encode("utf-8")
        parts += [struct.pack("<I", len(encoded)), encoded,
                  struct.pack("<BdI", int(m.rules), m.bias, len(keys)),
                  keys.tobytes(), values.tobytes()]
    return b"".join(parts)


def parse_weights(blob: bytes) -> dict[str, Weights]:
    if blob[:4] != _MAGIC:
        raise ValueError("not a feed-monitor weights file")
    (count,), at = struct.unpack_from("<I", blob, 4), 8
    out = {}
    for _ in range(count):
        (size,) = struct.unpack_from("<I", blob, at)
        name = blob[at + 4:at + 4 + size].decode("utf-8")
        at += 4 + size
        flag, bias, n = struct.unpack_from("<BdI", blob, at)
        at += struct.calcsize("<BdI")
        keys = array("I", blob[at:at + 4 * n])
        values = array("f", blob[at + 4 * n:at + 8 * n])
        at += 8 * n
        table = array("f", bytes(4 * SIZE))
        for k, v in zip(keys, values, strict=True):
            table[k] = v
        out[name] = Weights(bias, table, bool(flag))
    return out


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, Weights]:
    """The shipped weights; none (every topic judged by its rule) when the file is missing."""
    try:
        return parse_weights(path.read_bytes())
    except FileNotFoundError:
        return {}
