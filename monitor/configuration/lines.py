"""Where in a configuration file a problem is: a rule's character offset as a file line.

tomllib gives values, not positions. A rule is usually written verbatim in the file (a
multi-line string without escapes), so its text is found there and the offset turned into the
file's line and column; when it is not found verbatim, the line within the rule is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def locate(path: Path, text: str, position: int) -> str:
    """'line 167, column 12' of `path` for offset `position` within the value `text`."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        source = ""
    position = max(0, min(position, len(text)))
    start = source.find(text) if text else -1
    if start >= 0:
        before = source[:start + position]
        return f"line {before.count(chr(10)) + 1}, column {len(before) - before.rfind(chr(10))}"
    before = text[:position]
    return f"line {before.count(chr(10)) + 1} of the rule"


def declared_topics(path: Path) -> list[str]:
    """Every topic name declared in topics.toml, compiled or not (so that one broken topic is
    one problem, not one more for each alert rule that names it)."""
    import tomllib

    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    raw = data.get("topic")
    return [t["name"] for t in raw if isinstance(t, dict) and isinstance(t.get("name"), str)] \
        if isinstance(raw, list) else []
