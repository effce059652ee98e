"""Topics: named rules of the rule language (monitor.matching.rules) with a score and a threshold.

``topics.toml`` holds ``[aliases]`` (name -> spellings) and one ``[[topic]]`` table per topic:
``name``, ``description``, ``rule`` (the full rule, run on title and extracted text), ``gate``
(the cheap rule run on a general feed's title and summary before any download), ``threshold``,
``title_weight`` and ``context`` (aliases that must match but say nothing about the topic, such
as where it happens). An item belongs to a topic when its rule matches and its score reaches
the threshold. The score counts each distinct matched spelling once: `title_weight` if it occurs
in the title, 1 if only in the text; terms under NOT and context aliases count nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.configuration.lines import locate
from monitor.matching import rule_parser, rules
from monitor.matching.rule_parser import RuleError
from monitor.matching.rules import Any_, Document, Node, Not, Phrase
from storage.records import TopicHit

TOPIC_KEYS = {"name", "description", "rule", "gate", "threshold", "title_weight", "context"}
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,40}")  # used with fullmatch


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    rule: Node
    gate: Node
    threshold: float
    title_weight: float
    source: str  # the rule text, for messages
    context: frozenset[str] = frozenset()  # "@alias" labels that qualify but do not score


@dataclass(frozen=True)
class TopicsConfig:
    topics: tuple[Topic, ...] = ()
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.topics)


def _leaves(node: Node, negated: bool = False) -> list[tuple[Node, bool]]:
    if isinstance(node, Phrase | Any_):
        return [(node, negated)]
    if isinstance(node, Not):
        return _leaves(node.part, not negated)
    out: list[tuple[Node, bool]] = []
    for child in vars(node).values():
        if isinstance(child, Node):
            out += _leaves(child, negated)
        elif isinstance(child, tuple):
            for c in child:
                if isinstance(c, Node):
                    out += _leaves(c, negated)
    return out


def score(topic: Topic, doc: Document) -> tuple[float, tuple[str, ...]]:
    weights: dict[str, float] = {}
    for leaf, negated in _leaves(topic.rule):
        if negated or getattr(leaf, "label", "") in topic.context:
            continue
        for term in leaf.eval(doc, ("text",)).terms:
            weights.setdefault(term, 1.0)
        for term in leaf.eval(doc, ("title",)).terms:
            weights[term] = topic.title_weight
    return sum(weights.values()), tuple(sorted(weights))


def classify(config: TopicsConfig, title: str, text: str, language: str = "", *,
             normalised: bool = False) -> list[TopicHit]:
    """The topics an item belongs to, with score and matched terms (`normalised`: title and
    text are given in their search form already)."""
    doc = Document.of(title, text, language, normalised=normalised)
    out = []
    for topic in config.topics:
        if not rules.evaluate(topic.rule, doc).matched:
            continue
        value, matched = score(topic, doc)
        if value >= topic.threshold:
            out.append(TopicHit(topic.name, value, matched))
    return out


def gate(config: TopicsConfig, title: str, summary: str, language: str = "") -> str | None:
    """The first topic whose gate passes on a feed entry's title and summary, or None."""
    doc = Document.of(title, summary, language)
    for topic in config.topics:
        hit = rules.evaluate(topic.gate, doc)
        if hit.matched:
            return f"{topic.name}: {', '.join(sorted(hit.terms)[:3])}"
    return None


# -- loading -------------------------------------------------------------------------------------


def load(data: dict[str, Any], path: Path, problems: list[str]) -> TopicsConfig:
    """Validate the parsed topics.toml; every problem is appended with file, topic and position."""
    for key in sorted(set(data) - {"aliases", "topic"}):
        problems.append(f"{path}: {key}: unknown key")
    aliases: dict[str, tuple[str, ...]] = {}
    raw_aliases = data.get("aliases", {})
    if not isinstance(raw_aliases, dict):
        problems.append(f"{path}: aliases: expected a table of name = [spellings]")
        raw_aliases = {}
    for name, spellings in raw_aliases.items():
        if not isinstance(spellings, list) or not spellings or not all(
                isinstance(s, str) and s.strip() for s in spellings):
            problems.append(f"{path}: aliases.{name}: expected a non-empty list of strings")
            continue
        for s in spellings:
            try:
                rule_parser.term(s)
            except RuleError as exc:
                problems.append(f"{path}: aliases.{name}: {exc}")
        aliases[name] = tuple(spellings)
    raw_topics = data.get("topic", [])
    if not isinstance(raw_topics, list) or not raw_topics:
        problems.append(f"{path}: topic: at least one [[topic]] is required")
        raw_topics = []
    topics = []
    for index, raw in enumerate(raw_topics):
        topic = _topic(raw, index, aliases, path, problems)
        if topic is not None:
            topics.append(topic)
    names = [t.name for t in topics]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{path}: topic '{name}': name used twice")
    return TopicsConfig(tuple(topics), tuple(aliases.items()))


def _topic(raw: Any, index: int, aliases: dict[str, tuple[str, ...]], path: Path,
           problems: list[str]) -> Topic | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: topic #{index + 1}: expected a table")
        return None
    where = f"{path}: topic '{raw.get('name', f'#{index + 1}')}'"
    before = len(problems)
    for key in sorted(set(raw) - TOPIC_KEYS):
        problems.append(f"{where}: {key}: unknown key")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append(f"{where}: name: expected a lower-case name such as 'protests'")
    compiled: dict[str, Node] = {}
    for key in ("rule", "gate"):
        text = raw.get(key)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: {key}: required (a rule of the topic language)")
            continue
        try:
            compiled[key] = rule_parser.parse(text, aliases)
        except RuleError as exc:  # the file's line, not the rule's character offset
            at = locate(path, text, exc.position)
            problems.append(f"{where}: {key}: {at}: {str(exc).split(': ', 1)[-1]}")
    context = raw.get("context", [])
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        problems.append(f"{where}: context: expected a list of alias names")
        context = []
    for alias in context:
        if alias not in aliases:
            problems.append(f"{where}: context: unknown alias {alias!r}")
    numbers = {}
    for key, default in (("threshold", 1.0), ("title_weight", 2.0)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"{where}: {key}: expected a number >= 0")
        numbers[key] = float(value) if isinstance(value, int | float) else default
    if len(problems) > before:
        return None
    return Topic(name=str(name), description=str(raw.get("description", "")),
                 rule=compiled["rule"], gate=compiled["gate"], threshold=numbers["threshold"],
                 title_weight=numbers["title_weight"], source=str(raw["rule"]),
                 context=frozenset(f"@{c}" for c in context))
