"""The cheap relevance gate for general feeds.

Before any article page of a *general* source is downloaded, the entry's title and summary must
pass the ``gate`` rule of at least one topic (topics.toml). Skipped entries are stored with the
reason, so they are never fetched again and misses can be audited in SQL.
"""

from __future__ import annotations

from monitor.matching import topics
from monitor.matching.topics import TopicsConfig


class Gate:
    def __init__(self, config: TopicsConfig) -> None:
        self.config = config

    def check(self, title: str, summary: str) -> str | None:
        """Which topic's gate passed (with the terms that matched), or None."""
        return topics.gate(self.config, title, summary)
