"""The topic rule language's parser: rule text -> a tree of `monitor.matching.rules` nodes.

The grammar is drawn in monitor.matching.rules. A malformed rule raises `RuleError` with the
position (0-based character offset) of the fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.matching.rules import (
    And,
    Any_,
    Language,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Scoped,
    split_apostrophes,
    tokens_of,
)
from monitor.matching.text import ZWNJ, normalize, words


class RuleError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"position {position}: {message}")
        self.position = position



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
    if not tokens_of(text.replace("*", " ")):
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
        parts = split_apostrophes(words(chunk.replace(ZWNJ, "")))
        for i, part in enumerate(parts):
            out.append(part)
            prefixes.append(prefix and i == len(parts) - 1)
    return Phrase(label, tuple(out), tuple(prefixes))


def parse(source: str, aliases: Mapping[str, tuple[str, ...]] | None = None) -> Node:
    """Compile a rule; raises RuleError with the position of the first fault."""
    return _Parser(source, aliases or {}).parse()
