"""Alert rules: which items alert on which channels — validated once, decided purely.

``[[alerts.rule]]`` tables in monitor.toml::

    [[alerts.rule]]
    name = "defections-fast"       # shown in the outbox payload
    topics = ["defections"]        # any of these topics (empty: any topic)
    min_score = 4                  # the topic score must reach this (0: the topic's threshold)
    languages = ["fa", "en"]       # empty: any
    sources = []                   # source ids; empty: any
    channels = ["slack", "email"]  # disabled channels are skipped
    possible = false               # true: possible matches too, to the rule's digest channels only

An item asks for an alert on a channel when one rule matches it, it was published within
`alerts.max_age`, and its source's run is not a first-poll back-fill. Whether the story has
already alerted there is the outbox's business (one alert per story and channel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from storage.records import AlertRequest, TopicHit

RULE_KEYS = {"name", "topics", "min_score", "languages", "sources", "channels", "possible"}


@dataclass(frozen=True)
class ChannelPolicy:
    name: str
    enabled: bool
    mode: str  # immediate | digest
    digest_every: float
    flood_max: int
    flood_window: float


@dataclass(frozen=True)
class AlertRule:
    name: str
    topics: tuple[str, ...]
    min_score: float
    languages: tuple[str, ...]
    sources: tuple[str, ...]
    channels: tuple[str, ...]
    possible: bool = False  # possible matches (monitor.matching.topics) go to its digest channels

    def matches(self, hits: tuple[TopicHit, ...], language: str | None, source_id: str,
                state: str = "match") -> bool:
        if self.languages and language not in self.languages:
            return False
        if self.sources and source_id not in self.sources:
            return False
        return any((not self.topics or h.topic in self.topics) and h.score >= self.min_score
                   and h.state == state for h in hits)


def next_digest(now: datetime, every: float) -> datetime:
    """The next digest boundary: digests go out on fixed multiples of `every` (UTC)."""
    epoch = now.timestamp()
    return datetime.fromtimestamp(math.ceil(epoch / every) * every, tz=now.tzinfo)


def requests(rules: tuple[AlertRule, ...], channels: dict[str, ChannelPolicy],
             hits: tuple[TopicHit, ...], language: str | None, source_id: str,
             published_at: datetime | None, now: datetime, max_age: float,
             backfill: bool) -> tuple[AlertRequest, ...]:
    """The channels this item asks to alert on (empty when stale, back-fill or unmatched)."""
    if not hits or backfill:
        return ()
    if published_at is not None and now - published_at > timedelta(seconds=max_age):
        return ()
    out: dict[str, AlertRequest] = {}
    for rule in rules:
        sure = rule.matches(hits, language, source_id)
        if not sure and not (rule.possible and rule.matches(hits, language, source_id,
                                                            "possible")):
            continue
        for name in rule.channels:
            policy = channels.get(name)
            if policy is None or not policy.enabled or name in out:
                continue
            digest = policy.mode == "digest"
            if not sure and not digest:
                continue  # a possible match never alerts immediately
            due = next_digest(now, policy.digest_every) if digest else now
            out[name] = AlertRequest(name, due, rule.name, digest)
    return tuple(out.values())


def load_rules(raw: Any, path: Path, problems: list[str], topics: tuple[str, ...],
               source_ids: set[str], channels: tuple[str, ...]) -> tuple[AlertRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{path}: alerts.rule: expected [[alerts.rule]] tables")
        return ()
    out = []
    for index, table in enumerate(raw):
        where = f"{path}: alerts.rule #{index + 1}"
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table")
            continue
        where = f"{path}: alerts.rule '{table.get('name', index + 1)}'"
        before = len(problems)
        for key in sorted(set(table) - RULE_KEYS):
            problems.append(f"{where}: {key}: unknown key")
        lists: dict[str, tuple[str, ...]] = {}
        for key, allowed in (("topics", set(topics)), ("languages", None),
                             ("sources", source_ids), ("channels", set(channels))):
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{where}: {key}: expected a list of names")
                continue
            unknown = [v for v in value if allowed is not None and v not in allowed]
            if unknown:
                problems.append(f"{where}: {key}: unknown {', '.join(map(repr, unknown))}")
            lists[key] = tuple(value)
        if not lists.get("channels"):
            problems.append(f"{where}: channels: at least one channel is required")
        score = table.get("min_score", 0)
        if isinstance(score, bool) or not isinstance(score, int | float) or score < 0:
            problems.append(f"{where}: min_score: expected a number >= 0")
            score = 0
        name = table.get("name", f"rule-{index + 1}")
        possible = table.get("possible", False)
        if not isinstance(possible, bool):
            problems.append(f"{where}: possible: expected true or false")
        if len(problems) > before:
            continue
        out.append(AlertRule(str(name), lists["topics"], float(score), lists["languages"],
                             lists["sources"], lists["channels"], possible))
    return tuple(out)
