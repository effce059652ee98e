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
from functools import cached_property
from pathlib import Path
from typing import Any

from monitor.configuration.lines import locate
from monitor.matching import judge, reasons, rule_parser, rules
from monitor.matching.lexicon import Lexicon
from monitor.matching.rule_parser import RuleError
from monitor.matching.rules import Any_, Document, Node, Not, Phrase
from storage.records import TopicHit

TOPIC_KEYS = {"name", "description", "rule", "gate", "threshold", "title_weight", "context",
              "accept", "veto", "possible", "model"}
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
    accept: float = 0.6  # the model's probability from which an item belongs to the topic
    veto: float = 0.3  # ... under which the model overrules a rule hit (kept as possible)
    possible: float = 0.25  # ... from which it is kept as a possible match (never alerts now)
    model: bool = True  # False: the rule alone decides, even when weights exist

    @cached_property
    def clauses(self) -> tuple[tuple[str, Node], ...]:
        return judge.clauses(self.rule)

    @cached_property
    def scored(self) -> tuple[Node, ...]:
        """The leaves whose spellings count in the score: not under NOT, not context."""
        return tuple(leaf for leaf, negated in _leaves(self.rule)
                     if not negated and getattr(leaf, "label", "") not in self.context)

    @cached_property
    def where_clauses(self) -> frozenset[int]:
        """The top-level clauses made of `context` aliases alone (and lang:): the story is
        about Iran at all. When one fails, the model cannot make the item a match."""
        out = set()
        for index, (_, node) in enumerate(self.clauses):
            labels = [getattr(leaf, "label", "") for leaf, _ in _leaves(node)]
            if labels and all(label in self.context for label in labels):
                out.add(index)
        return frozenset(out)


@dataclass(frozen=True)
class TopicsConfig:
    topics: tuple[Topic, ...] = ()
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    models: tuple[tuple[str, judge.Weights], ...] = ()  # the second stage, by topic name
    groups: tuple[Any_, ...] = ()  # the alias groups the rules use (rule-side features)

    @cached_property
    def lexicon(self) -> Lexicon:
        """The alias groups' spellings in one table (one look-up per word for all groups)."""
        return Lexicon(self.groups)

    def model_of(self, topic: Topic) -> judge.Weights | None:
        if not topic.model:
            return None
        return next((w for name, w in self.models if name == topic.name), None)

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
    for leaf in topic.scored:
        for term in leaf.eval(doc, ("text",)).terms:
            weights.setdefault(term, 1.0)
        for term in leaf.eval(doc, ("title",)).terms:
            weights[term] = topic.title_weight
    return sum(weights.values()), tuple(sorted(weights))


def classify(config: TopicsConfig, title: str, text: str, language: str = "", *,
             normalised: bool = False, possible: bool = False) -> list[TopicHit]:
    """The topics an item belongs to, with score, matched terms and the reason in plain words
    (`normalised`: title and text are given in their search form already). Topics with a model
    are decided by its probability, the rule's verdict being one of its features; the others by
    the rule and its score. `possible`: also return the hits of the possible band."""
    doc = Document.of(title, text, language, normalised=normalised)
    config.lexicon.fill(doc)  # every alias group's hits at once, read from the memo
    out = []
    shared: dict[str, Any] = {"rules": {t.name: rule_result(t, doc) for t in config.topics}}
    # what the models of all topics read (judge.features): every topic's rule verdict, ...
    for topic in config.topics:
        hit = judge_topic(config, topic, doc, language, shared)
        if hit is not None and (possible or hit.state == "match"):
            out.append(hit)
    return out


def rule_result(topic: Topic, doc: Document) -> judge.RuleResult:
    """The first stage: does the rule match, with what score and spellings."""
    parts = tuple((name, rules.evaluate(node, doc).matched) for name, node in topic.clauses)
    if not all(holds for _, holds in parts):
        return judge.RuleResult(False, 0.0, topic.threshold, (), parts)
    value, terms = score(topic, doc)
    return judge.RuleResult(True, value, topic.threshold, terms, parts)


def decide(topic: Topic, rule_hit: bool, probability: float,
           excluded: bool = False) -> str | None:
    """The rule proposes, the model disposes: a rule hit stands unless the model's probability
    is under `veto` (then it is only possible); without a rule hit the model alone must reach
    `accept`, and an item one of the rule's exclusions (`AND NOT ...`) removed, or one that
    fails a clause of `context` aliases alone (it names no Iranian place, institution or the
    country, and is not in Persian), is at most possible: the written rule has the last word
    on what is excluded and where. Between `possible` and the bar:
    possible."""
    bar = topic.veto if rule_hit else topic.accept
    if probability >= bar and not excluded:
        return "match"
    return "possible" if probability >= min(topic.possible, bar) or rule_hit else None


def judge_topic(config: TopicsConfig, topic: Topic, doc: Document, language: str,
                shared: dict[str, Any] | None = None) -> TopicHit | None:
    """One topic's verdict on a document (None: not even possible)."""
    result = (shared or {}).get("rules", {}).get(topic.name) or rule_result(topic, doc)
    matched, value, terms = result.matched, result.score, result.terms
    weights = config.model_of(topic)
    if weights is None:
        if not matched or value < topic.threshold - 1:
            return None
        state = "match" if value >= topic.threshold else "possible"
        return reasons.hit(topic.name, state, value, terms, doc, None, ())
    feats = judge.features(doc, result if weights.rules else None, config.groups, language,
                           shared, topic.name)
    verdict = judge.verdict(weights, feats)
    rule_hit = weights.rules and matched and value >= topic.threshold  # a model of text alone
    excluded = weights.rules and any(
        not holds and (name.startswith("not ") or index in topic.where_clauses)
        for index, (name, holds) in enumerate(result.clauses))
    decided = decide(topic, rule_hit, verdict.probability, excluded)  # decides alone (ablation)
    if decided is None:
        return None
    return reasons.hit(topic.name, decided, value, terms, doc, verdict.probability,
                       verdict.evidence)


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
    models = judge.load_weights()
    return TopicsConfig(tuple(topics), tuple(aliases.items()),
                        tuple((t.name, models[t.name]) for t in topics if t.name in models),
                        judge.all_groups([t.rule for t in topics], aliases))


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
    accept, veto, possible, model = _judgement(raw, where, problems)
    if len(problems) > before:
        return None
    return Topic(name=str(name), description=str(raw.get("description", "")),
                 rule=compiled["rule"], gate=compiled["gate"], threshold=numbers["threshold"],
                 title_weight=numbers["title_weight"], source=str(raw["rule"]),
                 accept=accept, veto=veto, possible=possible, model=model,
                 context=frozenset(f"@{c}" for c in context))


def _judgement(raw: dict[str, Any], where: str,
               problems: list[str]) -> tuple[float, float, float, bool]:
    """`accept`, `veto` and `possible` (probabilities of the model), `model` (use it at all)."""
    numbers = {}
    for key, default in (("accept", 0.6), ("veto", 0.3), ("possible", 0.25)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            problems.append(f"{where}: {key}: expected a probability between 0 and 1")
            value = default
        numbers[key] = float(value)
    if numbers["possible"] > numbers["accept"]:
        problems.append(f"{where}: possible: must not be above accept")
    model = raw.get("model", True)
    if not isinstance(model, bool):
        problems.append(f"{where}: model: expected true or false")
    return numbers["accept"], numbers["veto"], numbers["possible"], model is not False
