"""Labelled items, their features, grouped folds and the training of the topic model
(monitor.matching.judge), in pure Python; used by `make train` and by the evaluation
(benchmarks.topics).

Training is logistic regression by AdaGrad over binary hashed features, with L2 shrinkage,
a fixed number of epochs and a seeded order: the same data gives the same weights. Positives
are weighted up to balance each topic's classes (fully, or by a square root: `POWERS`). The step
size (with AdaGrad and a fixed number of epochs, the strength of the regularisation: a smaller
step keeps weights small) and the class weighting are chosen per topic by an inner
cross-validation on the training items alone (`choose`: the F1 of the decisions the pipeline
would take), so that the evaluation's folds stay nested.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.configuration.sources import load_topics
from monitor.matching import judge
from monitor.matching.lead import menu_last
from monitor.matching.rules import Document
from monitor.matching.text import search_form
from monitor.matching.topics import Topic, TopicsConfig, decide, rule_result

EPOCHS = 12
RATE = 0.05  # the step when no choice is made (`grid=False`)
RATES = (0.01, 0.05)  # the steps `choose` chooses among
POWERS = (1.0, 0.5)  # ... and the class weightings: positives up by (negatives/positives)**power
INNER = 3  # folds of the inner cross-validation
L2 = 1e-4
SEED = 15
OWN = "own"  # the written set's group in `balance`
OWN_SHARE = 0.5  # its weight, as a share of the real set's


@dataclass(frozen=True)
class Item:
    id: str
    language: str
    source: str
    title: str
    text: str
    labels: frozenset[str]
    ambiguous: bool

    def words(self) -> frozenset[str]:
        """The words that identify the story: the first 80 words of 4 letters or more of the
        title and text."""
        return frozenset(re.findall(r"\w{4,}", search_form(f"{self.title} {self.text}"))[:80])


def stories(items: list[Item], overlap: float = 0.25) -> list[int]:
    """A story number per item: items whose opening words overlap by `overlap` (Jaccard) or
    more are one story, transitively (copies, rewrites and follow-ups of one story)."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = [it.words() for it in items]
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if not words[i] or not words[j]:
                continue
            if len(words[i] & words[j]) / len(words[i] | words[j]) >= overlap:
                parent[root(j)] = root(i)
    return [root(i) for i in range(len(items))]


class DataMissing(Exception):
    pass


def load_inputs(data: Path, topics: Path, prog: str) -> tuple[list[Item], TopicsConfig] | None:
    """The labelled items and the topics file, or None after saying on stderr why they cannot
    be read (the data folder is absent, or the topics have problems)."""
    try:
        items = load_dev(data)
    except DataMissing as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None
    problems: list[str] = []
    config = load_topics(topics, problems)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return None
    return items, config


def load_dev(folder: Path) -> list[Item]:
    """The real development set: en.jsonl and fa.jsonl of `folder`."""
    files = [folder / "en.jsonl", folder / "fa.jsonl"]
    if not all(f.is_file() for f in files):
        raise DataMissing(f"{folder}: no en.jsonl and fa.jsonl here (the development set is "
                          "kept outside the repository, in ../shared/relevance-dev)")
    out = []
    for f in files:
        for line in f.read_text("utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append(Item(r["id"], r["lang"], r["source"], r["title"] or "", r["text"] or "",
                                frozenset(r["labels"]), bool(r["ambiguous"])))
    return out


def load_own(path: Path) -> list[Item]:
    """One of the project's own written sets (tests/data/topics_*.json)."""
    items = json.loads(path.read_text("utf-8"))["items"]
    return [Item(r["id"], r["language"], path.stem, r["title"], r["text"],
                 frozenset(r["labels"]), False) for r in items]


def document(item: Item) -> Document:
    """The document the analysis builds (search forms, as monitor.polling.analysis passes them)."""
    return Document.of(search_form(item.title), search_form(menu_last(item.text)), item.language,
                       normalised=True)


def item_features(config: TopicsConfig, item: Item, with_rules: bool) -> dict[str, judge.Features]:
    doc = document(item)
    rules = {t.name: rule_result(t, doc) for t in config.topics}
    shared: dict[str, Any] = {"rules": rules}  # as topics.classify gives them
    out = {}
    for topic in config.topics:
        rule = rules[topic.name] if with_rules else None
        out[topic.name] = judge.features(doc, rule, config.groups, item.language, shared,
                                         topic.name)
    return out


def balance(rows: list[tuple[str, bool]], power: float = 1.0) -> list[float]:
    """A weight per row (its group, positive or not): within each group (a language of the
    real set, the written set) positives are weighted up to balance the classes, and the
    written set as a whole weighs `OWN_SHARE` of the real set, so that neither swamps the other
    nor one language the other."""
    count: Counter[tuple[str, bool]] = Counter(rows)
    out = []
    for group, y in rows:
        negatives, positives = count[(group, False)], count[(group, True)]
        up = (negatives / max(1, positives)) ** power
        out.append(up if y else 1.0)
    total = {g: sum(w for (gg, _), w in zip(rows, out, strict=True) if gg == g)
             for g, _ in count}
    real = sum(v for g, v in total.items() if g != OWN)
    return [w * (OWN_SHARE * real / total[g] if g == OWN and total[g] else 1.0)
            for (g, _), w in zip(rows, out, strict=True)]


def train(rows: list[tuple[judge.Features, bool]], with_rules: bool,
          weights: list[float] | None = None, rate: float = RATE) -> judge.Weights:
    """Logistic regression by AdaGrad on binary features, each row weighted (`balance`);
    deterministic."""
    table = [0.0] * judge.SIZE
    squares = [1e-8] * judge.SIZE
    bias, bias_sq = 0.0, 1e-8
    if weights is None:
        positives = sum(1 for _, y in rows if y)
        up = (len(rows) - positives) / max(1, positives)
        weights = [up if y else 1.0 for _, y in rows]
    order = list(range(len(rows)))
    rng = random.Random(SEED)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            feats, y = rows[i]
            logit = bias + sum(table[h] for h in feats)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
            g = (p - (1.0 if y else 0.0)) * weights[i]
            bias_sq += g * g
            bias -= rate * g / math.sqrt(bias_sq)
            for h in feats:
                gh = g + L2 * table[h]
                squares[h] += gh * gh
                table[h] -= rate * gh / math.sqrt(squares[h])
    return judge.Weights(bias, array("f", table), with_rules)


def train_all(config: TopicsConfig, items: list[Item], with_rules: bool,
              cache: dict[tuple[str, bool], dict[str, judge.Features]] | None = None,
              grid: bool = True, chosen: dict[str, tuple[float, float]] | None = None,
              ) -> dict[str, judge.Weights]:
    """One model per topic; its step and class weighting chosen by `choose` (`grid`; recorded
    in `chosen`), or `RATE` and fully balanced classes."""
    feats = [_cached(config, it, with_rules, cache) for it in items]
    groups = [OWN if it.source.startswith("topics_") else it.language for it in items]
    inner = folds(items, INNER) if grid else []
    out = {}
    for t in config.topics:
        labels = [t.name in it.labels for it in items]
        rows = [(f[t.name], y) for f, y in zip(feats, labels, strict=True)]
        pairs = list(zip(groups, labels, strict=True))
        rate, power = RATE, 1.0
        if inner:
            flags = [_flags(t, it) if with_rules else (False, False) for it in items]
            rate, power = choose(t, rows, pairs, flags, inner, with_rules)
        if chosen is not None:
            chosen[t.name] = (rate, power)
        out[t.name] = train(rows, with_rules, balance(pairs, power), rate)
    return out


def choose(topic: Topic, rows: list[tuple[judge.Features, bool]], pairs: list[tuple[str, bool]],
           flags: list[tuple[bool, bool]], fold_of: list[int],
           with_rules: bool) -> tuple[float, float]:
    """The step (`RATES`) and class weighting (`POWERS`) whose models, trained on all inner
    folds but one, decide the held-out items best: the sum over groups (each language, the
    written set) of the F1 of the decisions `topics.decide` takes at the topic's thresholds.
    Ties go to the first in the grid (the smaller step, full balance)."""
    best: tuple[float, float, float] | None = None
    for rate in RATES:
        for power in POWERS:
            weights = balance(pairs, power)
            counts: dict[str, Counter[str]] = defaultdict(Counter)
            for fold in sorted(set(fold_of)):
                keep = [i for i, f in enumerate(fold_of) if f != fold]
                model = train([rows[i] for i in keep], with_rules, [weights[i] for i in keep],
                              rate)
                for i in (i for i, f in enumerate(fold_of) if f == fold):
                    logit = model.bias + sum(model.table[h] for h in rows[i][0])
                    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
                    got = decide(topic, flags[i][0], p, flags[i][1]) == "match"
                    c, want = counts[pairs[i][0]], rows[i][1]
                    c["tp"] += got and want
                    c["miss"] += got != want
            value = sum(2 * c["tp"] / max(1, 2 * c["tp"] + c["miss"]) for c in counts.values())
            if best is None or value > best[0]:
                best = (value, rate, power)
    assert best is not None
    return best[1], best[2]


_FLAGS: dict[tuple[str, str, str], tuple[bool, bool]] = {}


def _flags(topic: Topic, item: Item) -> tuple[bool, bool]:
    """Whether the topic's rule hits the item, and whether an exclusion or the where clause
    removes it (as topics.judge_topic reads them)."""
    key = (topic.name, topic.source, item.id)
    if key not in _FLAGS:
        r = rule_result(topic, document(item))
        _FLAGS[key] = (r.matched and r.score >= r.threshold, any(
            not holds and (name.startswith("not ") or i in topic.where_clauses)
            for i, (name, holds) in enumerate(r.clauses)))
    return _FLAGS[key]


def _cached(config: TopicsConfig, item: Item, with_rules: bool,
            cache: dict[tuple[str, bool], dict[str, judge.Features]] | None,
            ) -> dict[str, judge.Features]:
    if cache is None:
        return item_features(config, item, with_rules)
    key = (item.id, with_rules)
    if key not in cache:
        cache[key] = item_features(config, item, with_rules)
    return cache[key]


def folds(items: list[Item], k: int = 5) -> list[int]:
    """A fold number per item: stratified by language and labels, one story's items together."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, story in enumerate(stories(items)):
        groups[str(story)].append(i)
    strata: dict[str, list[str]] = defaultdict(list)
    for name, members in groups.items():
        first = items[members[0]]
        strata[f"{first.language}|{','.join(sorted(first.labels))}"].append(name)
    out = [0] * len(items)
    rng = random.Random(SEED)
    sizes = [0] * k
    for stratum in sorted(strata):
        names = sorted(strata[stratum])
        rng.shuffle(names)
        here = [0] * k
        for name in sorted(names, key=lambda n: -len(groups[n])):
            fold = min(range(k), key=lambda f: (here[f], sizes[f], f))
            here[fold] += len(groups[name])
            for i in groups[name]:
                out[i] = fold
            sizes[fold] += len(groups[name])
    return out
