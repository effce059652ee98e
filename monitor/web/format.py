"""Pure helpers of the reader's pages: text direction, plain-words reasons, search snippets.

Nothing here returns markup: the templates escape every string they print, and a snippet is a
list of (text, highlighted) parts so that the highlighting never passes through raw HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from monitor.matching.text import search_form
from storage.reader import TopicReason
from storage.records import parse_iso

RTL_LANGUAGES = frozenset({"fa", "ar", "ur", "ps", "ckb", "he"})
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[A-Za-z]")

# a word as published: letters, digits, the marks and joiners inside Persian words
_WORD = re.compile(r"[\w\u064b-\u065f\u0670\u0640\u200c\u200d]+")
_TOKEN = re.compile(r"\w+")
_OPERATORS = {"AND", "OR", "NOT"}


def text_dir(language: str | None, text: str = "") -> str:
    """'rtl' for a right-to-left language (or mostly Arabic-script text), else 'ltr'/'auto'."""
    if language in RTL_LANGUAGES:
        return "rtl"
    if language:
        return "ltr"
    sample = text[:400]
    return "rtl" if len(_ARABIC_SCRIPT.findall(sample)) > len(_LATIN.findall(sample)) else "auto"


def reason_words(hit: TopicReason) -> list[str]:
    """The words that matched, without rule jargon: '@leaving:asylum' -> 'asylum'."""
    seen: list[str] = []
    for term in hit.matched:
        word = term.split(":", 1)[1] if term.startswith("@") and ":" in term else term
        word = word.rstrip("*").strip()
        if word and word not in seen:
            seen.append(word)
    return seen


def when(value: str | None) -> str:
    """'2026-01-20 09:12 UTC' from a stored ISO time ('' when unknown)."""
    moment = parse_iso(value) if value else None
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else (value or "")


def ago(value: str | None, now: datetime) -> str:
    moment = parse_iso(value) if value else None
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "now"


@lru_cache(maxsize=65536)
def _tokens(word: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(search_form(word)))


@dataclass(frozen=True)
class Terms:
    words: frozenset[str]
    prefixes: tuple[str, ...]

    def hit(self, word: str) -> bool:
        return any(token in self.words or token.startswith(self.prefixes)
                   for token in _tokens(word))


def query_terms(match: str) -> Terms:
    """The words of an FTS query (already normalised): operators, quotes, columns dropped."""
    words: set[str] = set()
    prefixes: list[str] = []
    for raw in re.findall(r'"[^"]*"\*?|\S+', match):
        if raw in _OPERATORS or raw.startswith("NEAR"):
            continue
        prefix = raw.endswith("*")
        body = raw.rstrip("*").strip('"').split(":", 1)[-1]
        tokens = _TOKEN.findall(body)
        words.update(tokens)
        if prefix and tokens:
            prefixes.append(tokens[-1])
    return Terms(frozenset(words), tuple(prefixes))


def highlight(text: str, terms: Terms, width: int = 280,
              lead: int | None = None) -> list[tuple[str, bool]]:
    """A window of ``text`` (``lead`` characters before its first match, ``width`` in all),
    as (part, is_match) pairs. Words are compared in their search form, so the original
    spelling is what gets marked."""
    words = _WORD.finditer(text)
    first = next((m for m in words if terms.hit(m.group())), None)
    if first is None:
        cut = text[:width]
        return [(cut + ("…" if len(text) > width else ""), False)] if cut else []
    start = max(0, first.start() - (width // 4 if lead is None else lead))
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first.start() else start
    end = min(len(text), start + width)
    spans = [(first.start(), first.end())]
    for m in words:
        if m.end() > end:
            break
        if terms.hit(m.group()):
            spans.append((m.start(), m.end()))
    parts: list[tuple[str, bool]] = [("… ", False)] if start else []
    pos = start
    for a, b in spans:
        parts += [(text[pos:a], False), (text[a:b], True)]
        pos = b
    parts.append((text[pos:end] + (" …" if end < len(text) else ""), False))
    return [p for p in parts if p[0]]


def mark_all(text: str, terms: Terms) -> list[tuple[str, bool]]:
    """The whole (short) text with every matching word marked: for titles."""
    return highlight(text, terms, width=len(text), lead=len(text)) if text else []


def page_numbers(page: int, has_next: bool) -> tuple[int | None, int | None]:
    return (page - 1 if page > 1 else None), (page + 1 if has_next else None)


def distinct(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out

