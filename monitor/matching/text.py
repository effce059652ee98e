"""Text normalisation for matching, dedup and search — pure functions, no I/O.

Stored text stays exactly as published; these functions produce the *normalised* form used by the
gate, the topic rules, dedup signatures and the FTS columns. Whenever the output of `normalize`
changes, bump `NORMALIZER_VERSION`: signatures and search columns record it and can be rebuilt.

Steps of `normalize`, in order:
 1. drop NUL, C0/C1 control characters (except whitespace) and lone surrogates;
 2. Unicode NFKC (folds Arabic presentation forms, full-width Latin, ligatures);
 3. Arabic letter forms to Persian: ي ى ئ(final) -> ی, ك -> ک, ة -> ه, ۀ -> ه, أ إ ٱ -> ا;
 4. tatweel (ـ) and Arabic diacritics (harakat, superscript alef) dropped;
 5. bidi controls (LRM, RLM, embeddings, overrides, isolates) removed;
 6. ZWNJ runs (and ZWJ/soft hyphen between letters) unified to one ZWNJ, or to nothing with
    ``zwnj="drop"`` (search and dedup use "drop" so می‌شود and میشود match alike);
 7. Persian (۰-۹) and Arabic-Indic (٠-٩) digits to ASCII;
 8. Latin case-folded; whitespace runs collapsed to one space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

NORMALIZER_VERSION = 1

ZWNJ = "\u200c"

_ARABIC_TO_PERSIAN = {
    "\u064a": "\u06cc",  # ي ARABIC YEH -> ی
    "\u0649": "\u06cc",  # ى ALEF MAKSURA -> ی
    "\u0643": "\u06a9",  # ك ARABIC KAF -> ک
    "\u0629": "\u0647",  # ة TEH MARBUTA -> ه
    "\u06c0": "\u0647",  # ۀ HEH WITH YEH ABOVE -> ه
    "\u0623": "\u0627",  # أ -> ا
    "\u0625": "\u0627",  # إ -> ا
    "\u0671": "\u0627",  # ٱ -> ا
    "\u0624": "\u0648",  # ؤ -> و
}
_DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")})
_TRANSLATE: dict[int, str | None] = {ord(k): v for k, v in _ARABIC_TO_PERSIAN.items()}
_TRANSLATE.update(_DIGITS)
# tatweel, harakat (064B-065F), superscript alef (0670), Quranic marks (06D6-06ED)
for _cp in [0x0640, 0x0670, *range(0x064B, 0x0660), *range(0x06D6, 0x06EE)]:
    _TRANSLATE[_cp] = None
# bidi controls and the BOM
for _cp in [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x061C, 0xFEFF]:
    _TRANSLATE[_cp] = None

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# ZWNJ, ZWJ, soft hyphen in any run, possibly mixed with spaces next to a ZWNJ
_JOINERS = re.compile(r"[\u200c\u200d\u00ad]+")
_SPACE_AROUND_ZWNJ = re.compile(r"\s*\u200c\s*")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:[\u200c'’][^\W_]+)*", re.UNICODE)


def normalize(text: str, *, zwnj: Literal["keep", "drop"] = "keep") -> str:
    """Return the normalised form of ``text`` (see the module docstring)."""
    if not text:
        return ""
    text = _CONTROL.sub(" ", text)
    if not text.isascii():  # the steps up to the joiners change nothing in ASCII text
        text = unicodedata.normalize("NFKC", text)
        text = text.translate(_TRANSLATE)
        if "\u200c" in text or "\u200d" in text or "\u00ad" in text:
            text = _JOINERS.sub(ZWNJ, text)
            text = _SPACE_AROUND_ZWNJ.sub(ZWNJ, text)
            if zwnj == "drop":
                text = text.replace(ZWNJ, "")
    text = text.casefold()
    return " ".join(text.split())  # white space runs to one space, none at the ends


def search_form(text: str) -> str:
    """The form stored in the FTS columns and used by dedup: normalised, ZWNJ dropped."""
    return normalize(text, zwnj="drop")


# Characters that stay a visible character through the steps before the ZWNJ steps (controls,
# NFKC, the Arabic table) whatever stands next to them: ASCII, the basic Arabic and Persian
# letters and the digits. A joiner with only other characters between it and a line's edge may
# join words across the line break (see `joined_search_form`).
_STEADY = "\x21-\x7e\u0621-\u063a\u0641-\u064a\u0660-\u0669\u067e\u0686\u0698\u06a9\u06af\u06cc" \
    "\u06f0-\u06f9"
_JOINER_CLASS = "[\u200c\u200d\u00ad]"
_EDGE_JOINER = re.compile(f"\\A[^{_STEADY}]*{_JOINER_CLASS}|{_JOINER_CLASS}[^{_STEADY}]*\\Z")


def joined_search_form(parts: Sequence[str], forms: Sequence[str]) -> str | None:
    """`search_form` of a text made of `parts` with white space between them (each gap with a
    line break or other space; the paragraphs of a text, a title and its text), from the parts'
    own search forms `forms`: the same string, without normalising the text again. None when a
    joiner stands at a part's edge (it would join words across the gap): normalise the whole."""
    for part in parts:
        if ("\u200c" in part or "\u200d" in part or "\u00ad" in part) and \
                _EDGE_JOINER.search(part):
            return None
    return " ".join(form for form in forms if form)


def words(text: str) -> list[str]:
    """Word tokens of already-normalised text (letters and digits; ZWNJ/apostrophe kept inside)."""
    return _WORD.findall(text)


def one_line(text: str, limit: int = 300) -> str:
    """Collapse to one safe line (no CR/LF/U+2028, no controls), cut to ``limit`` characters."""
    text = _CONTROL.sub(" ", text or "")
    text = _WHITESPACE.sub(" ", text.replace("\u2028", " ").replace("\u2029", " ")).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def clean_stored(text: str) -> str:
    """Make published text safe to store: no NUL/controls/lone surrogates; otherwise untouched."""
    if not text:
        return ""
    text = _CONTROL.sub(lambda m: "" if m.group() == "\x00" else " ", text)
    return text.encode("utf-8", "replace").decode("utf-8")


_PERSIAN_ONLY = re.compile("[پچژگیک\u200c]")
_ARABIC_ONLY = re.compile("[ةيكىإأ]")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\ufb50-\ufeff]")
_LATIN_LETTER = re.compile("[A-Za-z]")


# counted in UTF-8, without a list of every letter: an ASCII letter is one byte of its own, a
# character of U+0600-U+06FF one lead byte D8-DB; the presentation forms (U+FB50-U+FEFF, three
# bytes from EF) are counted by the pattern, when there is an EF byte at all
_NOT_LATIN = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())
_NOT_ARABIC_LEAD = bytes(b for b in range(256) if not 0xD8 <= b <= 0xDB)
_PRESENTATION = re.compile("[\ufb50-\ufeff]")


def _script_counts(sample: str) -> tuple[int, int]:
    """How many characters of `sample` are in the Arabic script (`_ARABIC_SCRIPT`) and how
    many are Latin letters (`_LATIN_LETTER`)."""
    data = sample.encode("utf-8", "surrogatepass")
    arabic = len(data.translate(None, _NOT_ARABIC_LEAD))
    if b"\xef" in data:
        arabic += len(_PRESENTATION.findall(sample))
    return arabic, len(data.translate(None, _NOT_LATIN))


def guess_language(text: str, default: str) -> str:
    """'fa' or 'ar' for text mostly in Arabic script, else ``default`` (Latin 'en' if unknown)."""
    sample = text[:4000]
    arabic, latin = _script_counts(sample)
    if arabic > latin:
        if default in ("fa", "ar"):
            return default
        persian = len(_PERSIAN_ONLY.findall(sample))
        arabic_only = len(_ARABIC_ONLY.findall(sample))
        return "ar" if arabic_only > persian else "fa"
    if latin > arabic and default in ("fa", "ar"):
        return "en"
    return default
