"""Anchors of an item: the facts two reports of one event share in any wording or language.

* ``place:KEY`` and ``inst:KEY``: entries of the bilingual gazetteer (monitor.matching.gazetteer);
* ``num:N``: numbers of two digits or more (Persian digits are folded by the normaliser; "1,200"
  and "1200" are one number);
* ``day:N``: weekdays (0 = Monday), in English or Persian;
* ``name:first last``: runs of two or three capitalised words in English text (same-language
  only: names are not transliterated).

``terms`` is the item's most frequent content words, for a same-language text similarity that
needs no model.
"""

from __future__ import annotations

import re
from collections import Counter

from monitor.matching.gazetteer import INSTITUTIONS, PLACES
from monitor.matching.text import search_form, words

WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "دوشنبه": 0, "سهشنبه": 1, "چهارشنبه": 2, "پنجشنبه": 3, "جمعه": 4, "شنبه": 5,
    "یکشنبه": 6,
}
# both open with the character class they match first, the look-behind after it (the same as
# "\b[A-Z]..." and "(?<![\d.])\d..."): the pattern engine then skips to the candidates at once
_NAME = re.compile(r"([A-Z](?<!\w[A-Z])[a-z]{2,}(?: [A-Z][a-z]{2,}){1,2})\b")
_NUMBER = re.compile(r"(\d(?<![\d.]\d)(?:\d{0,2}(?:,\d{3})+|\d+))(?!\d)")
_NOT_NAMES = {"the", "state", "iranian", "security", "officials", "analysts", "reporting"}
_STOP = """
a an the of in on at to for from by with and or but as is are was were be been has have had
that this these those it its their they he she his her who which what not no nor than then
there here also after before over under into about said says would could will can may more
most some any all one two three four five six seven eight nine ten up out new
از به در با که را این آن برای تا یا هم و اما است بود شد شده کرد کرده می بر هر نیز پس پیش
دو سه چند یک خود او آنان ایشان گفت گفته کند کنند دارد داشت ها های ای
"""
STOPWORDS = frozenset(_STOP.split())
TERMS = 40


def _phrases() -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for prefix, table in (("place", PLACES), ("inst", INSTITUTIONS)):
        for key, (english, persian) in table.items():
            for spelling in (*english, *persian):
                out[tuple(words(search_form(spelling)))] = f"{prefix}:{key}"
    return out


PHRASES = _phrases()
# the longest phrase that starts with each word: the words no phrase starts with are passed over
_FIRST: dict[str, int] = {}
for _p in filter(None, PHRASES):
    _FIRST[_p[0]] = max(_FIRST.get(_p[0], 0), len(_p))


def anchors(title: str, text: str, *, normalised: str | None = None) -> tuple[str, ...]:
    """The item's anchors, sorted (see the module's docstring). `normalised`: the search form
    of title and text joined by a line break, when the caller has it."""
    return anchors_and_terms(title, text, normalised)[0]


def terms(title: str, text: str, *, normalised: str | None = None) -> tuple[str, ...]:
    """The item's `TERMS` most frequent content words (ties by first use). `normalised`: as
    for `anchors`."""
    norm = search_form(f"{title}\n{text}") if normalised is None else normalised
    return _terms(words(norm))


def anchors_and_terms(title: str, text: str, normalised: str | None = None,
                      ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`anchors` and `terms` of an item, its text normalised and split into words once."""
    raw = f"{title}\n{text}"
    norm = search_form(raw) if normalised is None else normalised
    tokens = words(norm)
    found = {f"day:{WEEKDAYS[t]}" for t in WEEKDAYS.keys() & set(tokens)}
    starting = _FIRST.keys() & set(tokens)  # the words a phrase starts with
    for i in (i for i, token in enumerate(tokens) if token in starting):
        for n in range(_FIRST[tokens[i]], 0, -1):
            key = PHRASES.get(tuple(tokens[i:i + n]))
            if key is not None:
                found.add(key)
                break
    for m in _NUMBER.finditer(norm):
        found.add(f"num:{int(m.group(1).replace(',', ''))}")
    for m in _NAME.finditer(raw):
        name = m.group(1).lower()
        if name.split()[0] not in _NOT_NAMES and not PHRASES.get(tuple(name.split())):
            found.add(f"name:{name}")
    return tuple(sorted(found)), _terms(tokens)


def _terms(tokens: list[str]) -> tuple[str, ...]:
    counts = Counter(w for w in tokens if len(w) > 2 and w not in STOPWORDS and not w.isdigit())
    return tuple(w for w, _ in counts.most_common(TERMS))


GENERIC = frozenset({"place:tehran"})  # the capital: in nearly every story, says little


def specific(shared: set[str]) -> set[str]:
    """Shared anchors that single an event out: numbers (not years), names, places other than
    the capital (institutions, years and the capital are shared by every story of a kind)."""
    return {a for a in shared if a.split(":", 1)[0] in ("num", "name", "place")
            and a not in GENERIC and not _year(a)}


def _year(anchor: str) -> bool:
    """A Solar Hijri (13xx, 14xx) or Gregorian (19xx, 20xx) year."""
    if not anchor.startswith("num:"):
        return False
    n = int(anchor[4:])
    return 1300 <= n <= 1499 or 1900 <= n <= 2099


def strong(shared: set[str]) -> set[str]:
    """Shared anchors that say something about the event (weekdays only support them)."""
    return {a for a in shared if not a.startswith("day:")}
