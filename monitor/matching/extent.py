"""How much of a story is about a thing, and where: the model's evidence of extent.

A passing mention ("the protests of 2022" once, deep in a story about a plane crash) and a
story about protests both name the protest words; what sets them apart is how often they come
back and how far through the text (`count_names`). A protest in Paris reported from Tehran and
one in Shiraz both name Iran; what sets them apart is which places stand next to the protest
words (`near_names`). Both give plain feature names that monitor.matching.judge hashes with the
other rule-side features, so the weights file stays numbers only; `describe` reads them back
in plain words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping

COUNTS = (2, 4, 8, 16)  # "@group n4": the group occurs at least 4 times in the text
SPREAD = 50  # words per passage
PASSAGES = (2, 3, 5)  # "@group spread3": ... in at least 3 passages of SPREAD words
NEAR = 8  # words between a core word and a place for them to go together
CORE = ("@protest_words", "@leaving", "@strong_leaving", "@state_framing",
        "@crackdown_words")  # words whose place matters
SIDES = (("iran", ("@iran", "@iran_places", "@iran_state")),
         ("abroad", ("@world_places", "@foreign_places", "@other_regimes")))
MANY = 3  # "... near iran text 3": at least MANY core words stand near such a place

Spots = Mapping[str, tuple[tuple[int, ...], tuple[int, ...]]]  # label -> (title, text positions)


def count_names(spots: Spots) -> list[str]:
    """'@group nK' and '@group spreadK' for every group of `spots` that recurs in the text."""
    out = []
    for label, (_, text) in spots.items():
        if len(text) < COUNTS[0]:
            continue
        out += [f"{label} n{k}" for k in COUNTS if len(text) >= k]
        passages = len({p // SPREAD for p in text})
        out += [f"{label} spread{k}" for k in PASSAGES if passages >= k]
    return out


def _near(words: tuple[int, ...], places: list[int]) -> int:
    """How many of `words` have one of `places` (sorted) within NEAR words."""
    found = 0
    for p in words:
        i = bisect.bisect_left(places, p - NEAR)
        found += i < len(places) and places[i] <= p + NEAR
    return found


def near_names(spots: Spots) -> list[str]:
    """'@core near iran title', '@core near abroad text' (and '... 3' when MANY): the core
    words of a story next to Iranian places or to other countries', in the title and in the
    text (a dateline left out by the caller)."""
    cores = [c for c in CORE if c in spots]
    if not cores:
        return []
    out = []
    for side, labels in SIDES:
        for zone, k in (("title", 0), ("text", 1)):
            places = sorted(p for g in labels if g in spots for p in spots[g][k])
            if not places:
                continue
            for core in cores:
                found = _near(spots[core][k], places)
                if found:
                    out.append(f"{core} near {side} {zone}")
                if found >= MANY:
                    out.append(f"{core} near {side} {zone} {MANY}")
    return out


def names(spots: Spots) -> list[str]:
    return count_names(spots) + near_names(spots)


_LAST = re.compile(r"(n|spread)\d+")


def is_extent(name: str) -> bool:
    return " near " in name or bool(_LAST.fullmatch(name.rsplit(" ", 1)[-1]))


def describe(name: str) -> str:
    """An extent feature's name in plain words: '@protest_words n4' -> 'protest words 4 times
    or more in the text'."""
    if " near " in name:
        core, _, rest = name.partition(" near ")
        side, zone, *many = rest.split(" ")
        where = "an Iranian place" if side == "iran" else "another country"
        times = f" ({many[0]} times or more)" if many else ""
        return f"{_plain(core)} next to {where} in the {zone}{times}"
    group, last = name.rsplit(" ", 1)
    if last.startswith("spread"):
        return f"{_plain(group)} through {last[6:]} passages or more"
    return f"{_plain(group)} {last[1:]} times or more in the text"


def _plain(label: str) -> str:
    return label.lstrip("@").replace("_", " ")


def text_spots(positions: Iterable[int], head: int) -> tuple[int, ...]:
    """A group's positions in the text after its first `head` words (a dateline)."""
    return tuple(p for p in positions if p >= head)
