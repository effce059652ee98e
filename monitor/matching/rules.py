"""The topic rule language: parse once, match many times — pure functions.

Grammar (keywords upper-case; matching is on normalised text, see monitor.matching.text)::

    rule     := or
    or       := and ("OR" and)*
    and      := not ("AND"? not)*          adjacent terms are ANDed
    not      := "NOT" not | near
    near     := primary ("NEAR/" N primary)*   both sides within N words, in one field
    primary  := "(" rule ")" | FIELD ":" primary | lang:CODE | TERM | TERM* | "PHRASE" | @alias
    FIELD    := title | text

``lang:fa`` is true for items in that language. A TERM matches a whole word; ``TERM*`` any
word starting with it; a quoted phrase consecutive
words. ``@name`` stands for the alias group of that name: every spelling and script of one
thing ("IRGC", "Sepah", "سپاه پاسداران"). Persian words written with a ZWNJ in the rule also
match when the text writes them with a space or with nothing (می‌گوید, می گوید, میگوید).

Rules are parsed by monitor.matching.rule_parser; this module holds the documents they are
matched against and the tree of nodes they parse into.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

from monitor.matching.text import normalize, words

FIELDS = ("title", "text")


HEAD = 3  # a prefix can only match a field that has a word starting with its first HEAD chars


# -- documents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """Normalised word lists of an item's fields, its language, and a word index per field."""

    fields: dict[str, tuple[str, ...]]
    language: str = ""
    index: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    vocab: dict[str, list[str]] = field(default_factory=dict)  # sorted, for prefix lookups
    heads: dict[str, frozenset[str]] = field(default_factory=dict)  # first HEAD chars of words
    memo: dict[tuple[int | str, str], Hit] = field(default_factory=dict, compare=False)
    found: dict[tuple[str, str, bool], list[int]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, title: str, text: str, language: str = "", *,
           normalised: bool = False) -> Document:
        """`normalised`: title and text are already in their search form (text.search_form)."""
        fields = {"title": tokens_of(title, normalised), "text": tokens_of(text, normalised)}
        index: dict[str, dict[str, list[int]]] = {}
        for name, tokens in fields.items():
            positions: dict[str, list[int]] = {}
            for i, token in enumerate(tokens):
                positions.setdefault(token, []).append(i)
            index[name] = positions
        return cls(fields, language, index, {f: sorted(p) for f, p in index.items()},
                   {f: frozenset(w[:HEAD] for w in p) for f, p in index.items()})

    def starts(self, field_name: str, word: str, prefix: bool) -> list[int]:
        """Positions of `word` (or of any word it starts) in a field."""
        index = self.index.get(field_name, {})
        if not prefix:
            return index.get(word, [])
        key = (field_name, word, prefix)
        known = self.found.get(key)
        if known is not None:  # prefixes recur across aliases and topics
            return known
        vocab = self.vocab.get(field_name, [])
        out: list[int] = []
        for i in range(bisect.bisect_left(vocab, word), len(vocab)):
            if not vocab[i].startswith(word):
                break
            out += index[vocab[i]]
        self.found[key] = out
        return out


def _norm(text: str) -> str:
    return normalize(text, zwnj="drop")


def split_apostrophes(tokens: list[str]) -> list[str]:
    """Apostrophes separate words here ("Iran's" is "iran" "s"; "Khamene'i" two parts)."""
    out: list[str] = []
    for token in tokens:
        if "'" in token or "’" in token:
            out += [part for part in _APOSTROPHE.split(token) if part]
        else:  # most words: as they are (a word token is never empty)
            out.append(token)
    return out


def tokens_of(text: str, normalised: bool = False) -> tuple[str, ...]:
    norm = text if normalised else _norm(text)
    found = words(norm)
    return tuple(split_apostrophes(found) if "'" in norm or "’" in norm else found)


_APOSTROPHE = re.compile(r"['’]")


# -- the tree ------------------------------------------------------------------------------------

Positions = dict[str, set[int]]  # field -> positions of matched words


@dataclass(frozen=True)
class Hit:
    matched: bool
    positions: Positions = field(default_factory=dict)
    terms: frozenset[str] = frozenset()


MISS = Hit(False)


class Node:
    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        raise NotImplementedError


@dataclass(frozen=True)
class Phrase(Node):
    """One or more words in a row; a word marked as prefix matches any word it starts."""

    label: str
    words: tuple[str, ...]
    prefixes: tuple[bool, ...]

    @cached_property
    def _rest(self) -> tuple[tuple[int, str, bool], ...]:
        """(offset, word, is prefix) of the words after the first."""
        return tuple((k, w, p) for k, (w, p) in
                     enumerate(zip(self.words, self.prefixes, strict=True)) if k)

    def spots(self, doc: Document, f: str) -> Collection[int]:
        """The positions of the phrase's words in one field (empty: no match). A one-word
        phrase's are the document's own list: read it, never change it."""
        starts = doc.starts(f, self.words[0], True) if self.prefixes[0] else \
            doc.index.get(f, {}).get(self.words[0], [])
        if not self._rest or not starts:
            return starts
        tokens = doc.fields.get(f, ())
        n = len(self.words)
        found: set[int] = set()
        for i in starts:
            if i + n <= len(tokens) and all(
                    tokens[i + k].startswith(w) if p else tokens[i + k] == w
                    for k, w, p in self._rest):
                found.update(range(i, i + n))
        return found

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        positions: Positions = {}
        for f in fields:
            found = self.spots(doc, f)
            if found:
                positions[f] = set(found)
        return Hit(True, positions, frozenset({self.label})) if positions else MISS


@dataclass(frozen=True)
class Any_(Node):
    """Any of several alternatives (alias groups, ZWNJ spellings)."""

    label: str
    options: tuple[Node, ...]

    @cached_property
    def _first_words(self) -> list[tuple[str, bool, Node]]:
        """(first word, is prefix, option) of every option, to skip options that cannot match."""
        out: list[tuple[str, bool, Node]] = []
        for option in self.options:
            if isinstance(option, Phrase):
                out.append((option.words[0], option.prefixes[0], option))
            elif isinstance(option, Any_):
                out.extend(option._first_words)
            else:
                out.append(("", True, option))  # anything else: always evaluate
        return out

    @cached_property
    def plan(self) -> Plan:
        """The options sorted by what rules them out cheaply (see `Plan`), each with the term
        it adds ("@leaving:asylum" says which spelling of an alias matched)."""
        plan = Plan({}, {}, {}, [], [])
        for first, prefix, option in self._first_words:
            if not isinstance(option, Phrase):
                plan.others.append(option)
                continue
            term = f"{self.label}:{option.label}" if self.label.startswith("@") else self.label
            if prefix and len(first) >= HEAD:
                plan.by_head.setdefault(first[:HEAD], []).append((option, term))
            elif prefix:
                plan.short.append((option, term))
            elif len(option.words) == 1:
                plan.single.setdefault(first, []).append(term)
            else:
                plan.exact.setdefault(first, []).append((option, term))
        return plan

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        # alias groups recur in a rule, in other topics and in the scores, over one field or
        # both: each is evaluated once per field and document (an alias by its name: one
        # document is matched against the rules of one topics file), and fields are merged
        hits = []
        name: int | str = self.label if self.label.startswith("@") else id(self)
        for f in fields:
            key = (name, f)
            hit = doc.memo.get(key)
            if hit is None:
                hit = doc.memo[key] = self._eval(doc, f)
            if hit.matched:
                hits.append(hit)
        if not hits:
            return MISS
        return hits[0] if len(hits) == 1 else _merge(hits)

    def _eval(self, doc: Document, f: str) -> Hit:
        found: set[int] = set()
        terms: set[str] = set()
        plan = self.plan
        present = doc.index.get(f, {})
        # only options whose first word (or prefix) occurs in the field can match; most
        # prefixes are ruled out by their first characters before any lookup
        for w in plan.single.keys() & present.keys():
            found.update(present[w])
            terms.update(plan.single[w])
        options = [o for w in plan.exact.keys() & present.keys() for o in plan.exact[w]]
        for head in plan.by_head.keys() & doc.heads.get(f, frozenset()):
            options += plan.by_head[head]
        for option, term in options + plan.short:
            spots = option.spots(doc, f)
            if spots:
                found.update(spots)
                terms.add(term)
        for other in plan.others:
            hit = other.eval(doc, (f,))
            if hit.matched:
                found.update(hit.positions.get(f, ()))
                terms.update(f"{self.label}:{t}" if self.label.startswith("@") else self.label
                             for t in hit.terms)
        return Hit(True, {f: found}, frozenset(terms)) if found else MISS


@dataclass
class Plan:
    """An alias group's options by how they are found: one-word spellings by their word,
    phrases by their first word, prefixes by their first `HEAD` characters (shorter prefixes
    and anything else always tried)."""

    single: dict[str, list[str]]  # word -> the terms of the one-word spellings
    exact: dict[str, list[tuple[Phrase, str]]]  # first word -> (phrase, term)
    by_head: dict[str, list[tuple[Phrase, str]]]  # a prefix's head -> (phrase, term)
    short: list[tuple[Phrase, str]]  # prefixes shorter than HEAD
    others: list[Node]  # options that are not phrases


@dataclass(frozen=True)
class Or(Node):
    parts: tuple[Node, ...]

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        hits = [p.eval(doc, fields) for p in self.parts]
        matched = [h for h in hits if h.matched]
        return _merge(matched) if matched else MISS


@dataclass(frozen=True)
class And(Node):
    parts: tuple[Node, ...]

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        hits = []
        for p in self.parts:
            hit = p.eval(doc, fields)
            if not hit.matched:
                return MISS
            hits.append(hit)
        return _merge(hits)


@dataclass(frozen=True)
class Not(Node):
    part: Node

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        return MISS if self.part.eval(doc, fields).matched else Hit(True)


@dataclass(frozen=True)
class Near(Node):
    left: Node
    right: Node
    distance: int

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        a, b = self.left.eval(doc, fields), self.right.eval(doc, fields)
        if not (a.matched and b.matched):
            return MISS
        positions: Positions = {}
        for f in fields:
            pa, pb = sorted(a.positions.get(f, ())), sorted(b.positions.get(f, ()))
            close = _near(pa, pb, self.distance) | _near(pb, pa, self.distance)
            if close:
                positions[f] = close
        if not positions:
            return MISS
        return Hit(True, positions, a.terms | b.terms)


def _near(xs: list[int], ys: list[int], distance: int) -> set[int]:
    """The positions of `xs` with one of `ys` (sorted) at most `distance` away."""
    out = set()
    for x in xs:
        i = bisect.bisect_left(ys, x - distance)
        if i < len(ys) and ys[i] <= x + distance:
            out.add(x)
    return out


@dataclass(frozen=True)
class Language(Node):
    """lang:fa — the item's language (as detected or configured for its source)."""

    code: str

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        return Hit(True) if doc.language == self.code else MISS


@dataclass(frozen=True)
class Scoped(Node):
    field: str
    part: Node

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        return self.part.eval(doc, tuple(f for f in fields if f == self.field))


def _merge(hits: list[Hit]) -> Hit:
    positions: Positions = {}
    terms: set[str] = set()
    for h in hits:
        terms |= h.terms
        for f, ps in h.positions.items():
            positions.setdefault(f, set()).update(ps)
    return Hit(True, positions, frozenset(terms))


def evaluate(node: Node, doc: Document) -> Hit:
    return node.eval(doc, FIELDS)
