"""The story's own lead: web excerpts often open with a site's navigation (a column of short
menu entries: "Home", "Politics", "Sport", ...) that pushes the story's first sentences out of
the lead the topic stage reads. `menu_last` moves such a block to the end of the text, so that
the lead is the story's while no word is lost to the rules.
"""

from __future__ import annotations

import re

MENU_WORDS = 4  # a menu entry: at most this many words ...
MENU_LINES = 3  # ... and a block of at least this many entries in a row opens the text
_STOPS = ".!?؟،,;؛"
_NUMBERED = re.compile(r"^\s*\d+[.)]\s*")  # "1. Skip to content"


def _menu_like(line: str) -> bool:
    line = _NUMBERED.sub("", line)
    return len(line.split()) <= MENU_WORDS and not any(c in _STOPS for c in line)


def menu_last(text: str) -> str:
    """`text` with a leading block of menu-like lines moved to its end; `text` itself (the same
    object) when it opens with no such block or has nothing after it."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and not any(c.isalpha() for c in lines[start]):
        start += 1  # emoji or dash lines before the menu
    end = start
    while end < len(lines) and (_menu_like(lines[end]) or not lines[end].strip()):
        end += 1
    entries = sum(1 for line in lines[start:end] if any(c.isalpha() for c in line))
    if entries < MENU_LINES or end >= len(lines):
        return text
    return "\n".join(lines[end:] + lines[:end])
