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

A malformed rule raises `RuleError` with the position (0-based character offset) of the fault.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from monitor.matching.text import ZWNJ, normalize, words

FIELDS = ("title", "text")


class RuleError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"position {position}: {message}")
        self.position = position


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
    memo: dict[tuple[int, str], Hit] = field(default_factory=dict, compare=False)
    found: dict[tuple[str, str, bool], list[int]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, title: str, text: str, language: str = "", *,
           normalised: bool = False) -> Document:
        """`normalised`: title and text are already in their search form (text.search_form)."""
        fields = {"title": _tokens_of(title, normalised), "text": _tokens_of(text, normalised)}
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


def _split(tokens: list[str]) -> list[str]:
    """Apostrophes separate words here ("Iran's" is "iran" "s"; "Khamene'i" two parts)."""
    return [part for token in tokens for part in _APOSTROPHE.split(token) if part]


def _tokens_of(text: str, normalised: bool = False) -> tuple[str, ...]:
    return tuple(_split(words(text if normalised else _norm(text))))


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

    def _at(self, tokens: tuple[str, ...], i: int) -> bool:
        for k, (word, prefix) in enumerate(zip(self.words, self.prefixes, strict=True)):
            token = tokens[i + k]
            if not (token.startswith(word) if prefix else token == word):
                return False
        return True

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        positions: Positions = {}
        n = len(self.words)
        for f in fields:
            tokens = doc.fields.get(f, ())
            found: set[int] = set()
            for i in doc.starts(f, self.words[0], self.prefixes[0]):
                if i + n <= len(tokens) and self._at(tokens, i):
                    found.update(range(i, i + n))
            if found:
                positions[f] = found
        terms = frozenset({self.label}) if positions else frozenset()
        return Hit(bool(positions), positions, terms)


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
    def _by_first(self) -> tuple[dict[str, list[Node]], list[tuple[str, str, Node]]]:
        """Options by exact first word, and (prefix, its head, option) for the options whose
        first word is a prefix."""
        exact: dict[str, list[Node]] = {}
        prefixed: list[tuple[str, str, Node]] = []
        for first, prefix, option in self._first_words:
            if prefix:
                prefixed.append((first, first[:HEAD] if len(first) >= HEAD else "", option))
            else:
                exact.setdefault(first, []).append(option)
        return exact, prefixed

    def eval(self, doc: Document, fields: tuple[str, ...]) -> Hit:
        # alias groups recur in a rule, in other topics and in the scores, over one field or
        # both: each is evaluated once per field and document, and fields are merged
        hits = []
        for f in fields:
            key = (id(self), f)
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
        exact, prefixed = self._by_first
        present = doc.index.get(f, {})
        heads = doc.heads.get(f, frozenset())
        one = (f,)
        # only options whose first word (or prefix) occurs in the field can match; most
        # prefixes are ruled out by their first characters before any lookup
        options = [o for w in exact.keys() & present.keys() for o in exact[w]]
        options += [o for w, head, o in prefixed
                    if not w or ((not head or head in heads) and doc.starts(f, w, True))]
        for option in options:
            hit = option.eval(doc, one)
            if hit.matched:  # "@leaving:asylum" says which spelling of an alias matched
                found.update(hit.positions.get(f, ()))
                terms.update(f"{self.label}:{t}" if self.label.startswith("@") else self.label
                             for t in hit.terms)
        return Hit(True, {f: found}, frozenset(terms)) if found else MISS


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
            close = {x for x in pa for y in pb if abs(x - y) <= self.distance} | \
                    {y for y in pb for x in pa if abs(x - y) <= self.distance}
            if close:
                positions[f] = close
        if not positions:
            return MISS
        return Hit(True, positions, a.terms | b.terms)


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


# -- parsing -------------------------------------------------------------------------------------

_TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<near>NEAR/(?P<dist>\d+))
  | (?P<phrase>"[^"]*")
  | (?P<alias>@[\w-]+)
  | (?P<field>(?:title|text):)
  | (?P<lang>lang:[a-z]{2,3})
  | (?P<word>[^\s()"]+)
''', re.VERBOSE)


@dataclass(frozen=True)
class Tok:
    kind: str
    value: str
    pos: int


def _tokens(source: str) -> list[Tok]:
    out, i = [], 0
    while i < len(source):
        m = _TOKEN.match(source, i)
        if m is None:  # an unclosed quote
            raise RuleError("unclosed quote", i)
        kind = m.lastgroup or ""
        if kind == "dist":
            kind = "near"
        if kind != "space":
            value = m.group("dist") if kind == "near" else m.group()
            if kind == "word" and value in ("AND", "OR", "NOT"):
                kind = value
            out.append(Tok(kind, value, i))
        i = m.end()
    return out


class _Parser:
    def __init__(self, source: str, aliases: Mapping[str, tuple[str, ...]]) -> None:
        self.source = source
        self.toks = _tokens(source)
        self.i = 0
        self.aliases = aliases

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise RuleError("unexpected end of rule", len(self.source))
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise RuleError("empty rule", 0)
        node = self.or_()
        if (tok := self.peek()) is not None:
            raise RuleError(f"unexpected {tok.value!r}", tok.pos)
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        parts = [self.not_()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "rparen"):
            if tok.kind == "AND":
                self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "NOT":
            self.take()
            return Not(self.not_())
        return self.near()

    def near(self) -> Node:
        node = self.primary()
        while (tok := self.peek()) is not None and tok.kind == "near":
            self.take()
            node = Near(node, self.primary(), int(tok.value))
        return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "lparen":
            node = self.or_()
            close = self.peek()
            if close is None or close.kind != "rparen":
                raise RuleError("expected ')'", close.pos if close else len(self.source))
            self.take()
            return node
        if tok.kind == "field":
            return Scoped(tok.value[:-1], self.primary())
        if tok.kind == "lang":
            return Language(tok.value[5:])
        if tok.kind == "phrase":
            return term(tok.value[1:-1], tok.pos)
        if tok.kind == "alias":
            name = tok.value[1:]
            if name not in self.aliases:
                raise RuleError(f"unknown alias @{name}", tok.pos)
            return Any_(f"@{name}", tuple(term(v, tok.pos) for v in self.aliases[name]))
        if tok.kind == "word":
            return term(tok.value, tok.pos)
        raise RuleError(f"unexpected {tok.value!r}", tok.pos)


def term(text: str, position: int = 0) -> Node:
    """A word, prefix or phrase (any word may end in *); Persian ZWNJ compounds also match
    written with a space or joined."""
    if not _tokens_of(text.replace("*", " ")):
        raise RuleError(f"{text!r} has no letters or digits", position)
    joined = _phrase(text, text, zwnj_as_space=False)
    spaced = _phrase(text, text, zwnj_as_space=True)
    if spaced == joined:
        return joined
    return Any_(text, (joined, spaced))


def _phrase(label: str, text: str, *, zwnj_as_space: bool) -> Phrase:
    kept = normalize(text, zwnj="keep")
    if zwnj_as_space:
        kept = kept.replace(ZWNJ, " ")
    out: list[str] = []
    prefixes: list[bool] = []
    for chunk in kept.split():
        prefix = chunk.endswith("*")
        parts = _split(words(chunk.replace(ZWNJ, "")))
        for i, part in enumerate(parts):
            out.append(part)
            prefixes.append(prefix and i == len(parts) - 1)
    return Phrase(label, tuple(out), tuple(prefixes))


def parse(source: str, aliases: Mapping[str, tuple[str, ...]] | None = None) -> Node:
    """Compile a rule; raises RuleError with the position of the first fault."""
    return _Parser(source, aliases or {}).parse()


def evaluate(node: Node, doc: Document) -> Hit:
    return node.eval(doc, FIELDS)
