"""Wire attribution: which news agency a text credits, and the text without its credit lines.

Recognised, in English: datelines such as "TEHRAN (Reuters) -" or "(AFP) —", a lead "AP —",
trailing credit lines ("(Reporting by ...)", "— Agence France-Presse", "(Gulf Wire)",
"Copyright 2026 The Associated Press"). In Persian: "به گزارش ایسنا،", "به گزارش خبرگزاری
تسنیم،", "(ایرنا) -", and a closing "منبع: ایرنا". Agency names are mapped to one spelling
(IRNA, ISNA, ...); an English dateline naming an agency we do not know keeps that name.
Pure functions; the credit lines are dropped before dedup hashing, since outlets add them
differently to the same wire text.
"""

from __future__ import annotations

import re

from monitor.matching.text import normalize

# normalised spelling -> agency; Persian keys are matched on normalised, ZWNJ-free text
KNOWN = {
    "reuters": "Reuters", "ap": "AP", "associated press": "AP", "the associated press": "AP",
    "afp": "AFP", "agence france-presse": "AFP", "agence france presse": "AFP",
    "irna": "IRNA", "isna": "ISNA", "tasnim": "Tasnim", "fars": "Fars", "mehr": "Mehr",
    "ilna": "ILNA", "hrana": "HRANA", "dpa": "dpa", "anadolu": "Anadolu",
    "ایرنا": "IRNA", "ایسنا": "ISNA", "تسنیم": "Tasnim", "فارس": "Fars", "مهر": "Mehr",
    "ایلنا": "ILNA", "هرانا": "HRANA", "رویترز": "Reuters", "فرانسپرس": "AFP",
    "خبرگزاری فرانسه": "AFP", "آسوشیتدپرس": "AP", "ایپنا": "IPNA", "میزان": "Mizan",
}

_DASH = r"[-\u2013\u2014\u2012]"
# "TEHRAN, Jan 20 (Reuters) -", "(AFP) -", "LONDON (Gulf Wire) —"
_EN_DATELINE = re.compile(
    rf"^\s*(?:[A-Z][A-Za-z0-9 .,'’/-]{{0,60}}?\s*)?\(([A-Z][A-Za-z&.' -]{{1,40}})\)\s*{_DASH}+\s*")
# "AP — ", "Reuters - " at the very start
_EN_LEAD = re.compile(rf"^\s*(AP|AFP|Reuters|Associated Press)\s*{_DASH}+\s*")
_EN_TRAILER = re.compile(
    r"^\s*(?:\((?:reporting|writing|editing|additional reporting) by[^)]*\)"
    r"|\(([A-Z][A-Za-z&.' -]{1,40})\)"
    r"|(?:[-\u2013\u2014]\s*)?(agence france-presse|the associated press|associated press|reuters"
    r"|afp|ap)\.?"
    r"|(?:copyright|©)\s*(?:\d{4}\s*)?(?:the\s+)?(associated press|reuters|afp)[^.]*\.?"
    r"|with (afp|reuters|ap)\.?)\s*$",
    re.IGNORECASE)
_FA_LEAD = re.compile(r"^\s*به گزارش\s+(?:خبرگزاری\s+)?([^،,:]{2,30}?)\s*[،,:]\s*")
# "(ایرنا) -", "استکهلم (آوانگار)،"
_FA_PAREN = re.compile(rf"^\s*(?:[^\s()،,]{{2,20}}\s*)?\(([^()]{{2,30}})\)\s*(?:{_DASH}+|[،,:])\s*")
_FA_PAREN_TRAILER = re.compile(r"^\s*\(([^()a-zA-Z]{2,30})\)\s*\.?\s*$")
_FA_TRAILER = re.compile(r"^\s*(?:منبع|منبع خبر)\s*:\s*(?:خبرگزاری\s+)?(\S+(?:\s\S+)?)\s*\.?\s*$")


def _canonical(name: str, *, strict: bool) -> str | None:
    key = normalize(name, zwnj="drop").strip(" .")
    key = re.sub(r"^خبرگزاری\s+", "", key)
    if key in KNOWN:
        return KNOWN[key]
    return None if strict else " ".join(name.split())


def agency_of(lines: list[str]) -> str | None:
    """The agency the text credits, or None."""
    for line in lines[:2]:
        if m := _EN_DATELINE.match(line):
            return _canonical(m.group(1), strict=False)
        if m := _EN_LEAD.match(line):
            return _canonical(m.group(1), strict=True)
        if (m := _FA_LEAD.match(line)) and (found := _canonical(m.group(1), strict=True)):
            return found
        if m := _FA_PAREN.match(line):
            return _canonical(m.group(1), strict=False)
    for line in reversed(lines[-3:]):
        if len(line) > 200:
            continue
        if m := _EN_TRAILER.match(line):
            named = next((g for g in m.groups() if g), None)
            if named:
                return _canonical(named, strict=False)
            if "reporting by" in line.lower() or "editing by" in line.lower():
                return "Reuters"
        m = _FA_TRAILER.match(line)
        if m and (found := _canonical(m.group(1), strict=True)):
            return found
        if m := _FA_PAREN_TRAILER.match(line):
            return _canonical(m.group(1), strict=False)
    return None


def strip_credits(lines: list[str]) -> list[str]:
    """The lines without datelines/credit prefixes and without credit-only trailing lines."""
    out = list(lines)
    if out:
        first = out[0]
        for pattern in (_EN_DATELINE, _EN_LEAD, _FA_PAREN):
            first = pattern.sub("", first, count=1)
        m = _FA_LEAD.match(first)
        if m and _canonical(m.group(1), strict=True):
            first = first[m.end():]
        out[0] = first
    while out and len(out[-1]) <= 200 and (_EN_TRAILER.match(out[-1]) or _FA_TRAILER.match(
            out[-1]) or _FA_PAREN_TRAILER.match(out[-1])):
        out.pop()
    return [line for line in out if line.strip()]
