"""All alias groups of a topics file in one table: a document's words are looked up once for
every group instead of once per group, and the groups' hits go into the document's memo, where
the rules, the scores and the model's features read them (monitor.matching.rules: an alias is
evaluated once per field and document, by its name).

The hits are the same as each group's own evaluation (`Any_.eval`); a group with an option that
is not a phrase is left to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.matching.rules import FIELDS, MISS, Any_, Document, Hit, Phrase

Entry = tuple[int, Phrase | None, str]  # (group number, the phrase or None for one word, term)


class Lexicon:
    def __init__(self, groups: Iterable[Any_]) -> None:
        self.groups = tuple(g for g in groups if g.label.startswith("@") and not g.plan.others)
        self.by_word: dict[str, list[Entry]] = {}  # first word -> entries
        self.by_head: dict[str, list[Entry]] = {}  # a prefix's first characters -> entries
        self.short: list[Entry] = []  # prefixes shorter than a head: always tried
        for i, group in enumerate(self.groups):
            plan = group.plan
            for word, terms in plan.single.items():
                self.by_word.setdefault(word, []).extend((i, None, t) for t in terms)
            for word, options in plan.exact.items():
                self.by_word.setdefault(word, []).extend((i, p, t) for p, t in options)
            for head, options in plan.by_head.items():
                self.by_head.setdefault(head, []).extend((i, p, t) for p, t in options)
            self.short.extend((i, p, t) for p, t in plan.short)

    def fill(self, doc: Document) -> None:
        """Every group's hit in each field of `doc`, into its memo."""
        for f in FIELDS:
            present = doc.index.get(f, {})
            found: dict[int, set[int]] = {}
            terms: dict[int, set[str]] = {}
            tried: list[Entry] = []
            for word in self.by_word.keys() & present.keys():
                for entry in self.by_word[word]:
                    if entry[1] is None:  # a one-word spelling: where the word is
                        found.setdefault(entry[0], set()).update(present[word])
                        terms.setdefault(entry[0], set()).add(entry[2])
                    else:
                        tried.append(entry)
            for head in self.by_head.keys() & doc.heads.get(f, frozenset()):
                tried += self.by_head[head]
            for i, phrase, term in tried + self.short:
                spots = phrase.spots(doc, f) if phrase is not None else ()
                if spots:
                    found.setdefault(i, set()).update(spots)
                    terms.setdefault(i, set()).add(term)
            for i, group in enumerate(self.groups):
                doc.memo[(group.label, f)] = Hit(True, {f: found[i]}, frozenset(terms[i])) \
                    if i in found else MISS
