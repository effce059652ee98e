"""`Deps`: every part with a side effect that a source run uses, passed in explicitly (built by
`monitor.service.app.running`), so tests give real servers, files and pools without patching."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.configuration.settings import Settings
from monitor.configuration.sources import SourceConfig
from monitor.fetching.http import Fetcher
from monitor.fetching.robots import Robots
from monitor.matching.dedup import Matcher
from monitor.matching.gate import Gate
from monitor.workers import WorkerPool
from storage import Store


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: Store
    fetcher: Fetcher
    pool: WorkerPool
    gate: Gate
    clock: Callable[[], datetime]
    rng: random.Random = field(default_factory=random.Random)
    matcher: Matcher = field(default_factory=Matcher)
    robots: Robots | None = None
    proxied: dict[str, Fetcher] = field(default_factory=dict)  # proxy URL -> its own client

    def fetcher_for(self, source: SourceConfig) -> Fetcher:
        proxy = source.proxy or self.settings.fetch.proxy
        return self.proxied.get(proxy, self.fetcher) if proxy else self.fetcher

    def with_settings(self, settings: Settings) -> Deps:
        """The same parts under a reloaded configuration (sources, topics, polling, alerts)."""
        return replace(self, settings=settings, gate=Gate(settings.topics))
