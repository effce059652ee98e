"""The cheap relevance gate for general feeds — pure.

Before any article page of a *general* source is downloaded, its title and summary must contain
one of the gate terms (any match passes). Matching is on normalised text (`monitor.text`), so
Arabic/Persian letter forms, ZWNJ variants and case do not matter; a term matches at the start of
a word, which makes ``protest`` also match ``protesters`` and ``اعتراض`` match ``اعتراضات``.
The topics issue replaces the term list with a rule of the topic language; the interface stays
`Gate.check(title, summary) -> matched term or None`.
"""

from __future__ import annotations

import re

from monitor.text import search_form


class Gate:
    def __init__(self, terms: tuple[str, ...]) -> None:
        self.terms = tuple(search_form(t) for t in terms)
        ordered = sorted({t for t in self.terms if t}, key=len, reverse=True)
        pattern = "|".join(re.escape(t) for t in ordered) or r"(?!x)x"
        self._regex = re.compile(rf"(?<!\w)(?:{pattern})")

    def check(self, title: str, summary: str) -> str | None:
        """The first gate term found in the title or summary, or None."""
        m = self._regex.search(search_form(f"{title} \n {summary}"))
        return m.group(0) if m else None
