"""The cheap relevance gate for general feeds.

Before any article page of a *general* source is downloaded, the entry's title and summary must
pass the ``gate`` rule of at least one topic (topics.toml). Skipped entries are stored with the
reason, so they are never fetched again and misses can be audited in SQL.

The gate is given the entry's language (the source's, or the one its words show) so that the
``lang:fa`` clauses of the gate rules can fire, and the summary's *lead*: its first lines that
carry letters (a caption that opens with a line of emoji or a bare link is read from the first
line with words), up to `LEAD_CHARS` characters.
"""

from __future__ import annotations

from monitor.matching import topics
from monitor.matching.text import guess_language
from monitor.matching.topics import TopicsConfig

LEAD_CHARS = 600


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The first lines of `text` that contain a letter, joined, cut at about `limit` chars."""
    out: list[str] = []
    size = 0
    for line in text.splitlines():
        line = line.strip()
        if not any(c.isalpha() for c in line):
            continue  # emoji-only, dashes, bare numbers
        out.append(line)
        size += len(line) + 1
        if size >= limit:
            break
    return " ".join(out)[:limit]


class Gate:
    def __init__(self, config: TopicsConfig) -> None:
        self.config = config

    def check(self, title: str, summary: str, language: str = "") -> str | None:
        """Which topic's gate passed (with the terms that matched), or None. `language`: the
        source's language; the entry's own words decide when they clearly show another."""
        text = lead(summary)
        if language:
            language = guess_language(f"{title} {text}", language)
        return topics.gate(self.config, title, text, language)
