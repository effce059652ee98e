"""The labelled dedup set: base articles (tests/data/dedup_base.json, written for this project)
expanded into realistic copies and hard negatives, rendered into outlet HTML templates and
extracted with the pipeline's own extractor.

Copies of a base article (label: same story):
  retitled   another headline, an agency dateline added, another outlet template
  cut        a rewritten lede, only the first four paragraphs
  credited   the other rewritten lede, a credit line appended
  shuffled   a paragraph moved, one dropped, small edits (figures, spellings)
  updated    the whole text with update paragraphs appended
  variant    Persian: Arabic letter forms and ZWNJ as spaces; English: small edits, cut to 3
Hard negatives (label: different story):
  same_event a different article on the same event, written independently
  followup   a later article that reuses two background paragraphs verbatim
  template   two different base articles rendered in the same outlet template
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from monitor.parsing.extract import extract_article

BASE = Path(__file__).parent / "data" / "dedup_base.json"


@dataclass(frozen=True)
class Doc:
    id: str
    base: str  # the base article this doc belongs to (for copies) or derives from
    role: str  # base | retitled | cut | credited | shuffled | updated | variant | same_event | ...
    language: str
    template: int
    headline: str
    paragraphs: tuple[str, ...]
    text: str = ""  # extracted

    @property
    def story(self) -> str:
        """Docs with equal `story` are copies of one another."""
        return self.base if self.role not in ("same_event", "followup") else f"{self.id}"


TEMPLATES: list[dict[str, Any]] = [
    {"outlet": "Meridian Times", "nav": ["World", "Middle East", "Business", "Opinion"],
     "follow": "Follow The Meridian Times on Telegram and X for breaking news.",
     "fa_follow": "اخبار فوری را در کانال تلگرام مریدین دنبال کنید."},
    {"outlet": "Gulf Observer", "nav": ["Home", "Region", "Iran", "Energy", "Video"],
     "follow": "Sign up for the Gulf Observer morning briefing in your inbox.",
     "fa_follow": "برای دریافت خبرنامه صبحگاهی گالف آبزرور ثبت‌نام کنید."},
    {"outlet": "Northern Daily", "nav": ["News", "World", "Politics", "Science"],
     "follow": "Northern Daily journalism is funded by readers. Support us today.",
     "fa_follow": "روزنامه‌نگاری نورترن دیلی با حمایت خوانندگان ممکن است."},
    {"outlet": "Persian Herald", "nav": ["خانه", "ایران", "جهان", "اقتصاد"],
     "follow": "Download the Persian Herald app for alerts.",
     "fa_follow": "اپلیکیشن هرالد فارسی را برای دریافت هشدارها نصب کنید."},
    {"outlet": "Azadi News", "nav": ["صفحه اول", "سیاسی", "اجتماعی", "گزارش"],
     "follow": "Azadi News is an independent outlet. Share this story.",
     "fa_follow": "آزادی نیوز رسانه‌ای مستقل است. این گزارش را به اشتراک بگذارید."},
]


def render(doc: Doc, others: list[str]) -> str:
    t = TEMPLATES[doc.template]
    rtl = doc.language == "fa"
    nav = "".join(f"<li><a href='/s/{i}'>{escape(n)}</a></li>" for i, n in enumerate(t["nav"]))
    related = "".join(f"<li><a href='/r/{i}'>{escape(h)}</a></li>" for i, h in enumerate(others))
    body = "".join(f"<p>{escape(p)}</p>" for p in doc.paragraphs)
    follow = t["fa_follow"] if rtl else t["follow"]
    return (
        f"<!DOCTYPE html><html lang='{doc.language}' dir='{'rtl' if rtl else 'ltr'}'><head>"
        f"<meta charset='utf-8'><title>{escape(doc.headline)} | {escape(t['outlet'])}</title>"
        f"</head><body><header><a href='/'>{escape(t['outlet'])}</a><nav><ul>{nav}</ul></nav>"
        f"</header><div class='cookie'>We use cookies to improve your experience. Accept</div>"
        f"<main><article><h1>{escape(doc.headline)}</h1>"
        f"<div class='byline'>By Staff Writer</div>{body}<p><em>{escape(follow)}</em></p>"
        f"</article><aside><h3>Related</h3><ul>{related}</ul></aside></main>"
        f"<footer>© 2026 {escape(t['outlet'])}. All rights reserved. "
        f"<a href='/privacy'>Privacy</a></footer></body></html>")


def _edit(paragraphs: list[str], edits: list[list[str]]) -> list[str]:
    out = list(paragraphs)
    for old, new in edits:
        out = [p.replace(old, new, 1) for p in out]
    return out


def _arabic_forms(text: str) -> str:
    return text.replace("ی", "ي").replace("ک", "ك").replace("\u200c", " ")


def _credit_lead(a: dict[str, Any]) -> str:
    agency = a.get("agency") or ("ایرنا" if a["language"] == "fa" else "Reuters")
    if a["language"] == "fa":
        return f"به گزارش {agency}، "
    return f"TEHRAN ({agency}) - "


def _credit_trailer(a: dict[str, Any]) -> str:
    if a["language"] == "fa":
        return f"منبع: {a.get('agency') or 'ایسنا'}"
    return "(Reporting by the Dubai newsroom; Editing by Sam Hale)"


def expand(a: dict[str, Any], rng: random.Random) -> list[Doc]:
    lang, bid = a["language"], a["id"]
    paras = list(a["paragraphs"])
    t0 = 3 if lang == "fa" else 0
    templates = [t for t in range(len(TEMPLATES)) if t != t0]
    rng.shuffle(templates)

    def doc(role: str, headline: str, ps: list[str], template: int) -> Doc:
        return Doc(f"{bid}/{role}", bid, role, lang, template, headline, tuple(ps))

    alt_h = a["alt_headlines"]
    ledes = a["alt_ledes"]
    shuffled = list(paras)
    shuffled.insert(4, shuffled.pop(2))
    del shuffled[-2]
    variant = ([_arabic_forms(p) for p in paras] if lang == "fa"
               else _edit(paras, a["small_edits"])[:3])
    docs = [
        doc("base", a["headline"], paras, t0),
        doc("retitled", alt_h[0], [_credit_lead(a) + paras[0], *paras[1:]], templates[0]),
        doc("cut", alt_h[1], [ledes[0], *paras[1:4]], templates[1]),
        doc("credited", alt_h[2 % len(alt_h)], [ledes[1], *paras[1:], _credit_trailer(a)],
            templates[2]),
        doc("shuffled", a["headline"], _edit(shuffled, a["small_edits"]), templates[3]),
        doc("updated", alt_h[0], [*paras, *a["update_paragraphs"]], templates[0]),
        doc("variant", _arabic_forms(a["headline"]) if lang == "fa" else alt_h[1], variant,
            templates[1]),
        doc("same_event", a["same_event"]["headline"], list(a["same_event"]["paragraphs"]),
            templates[2]),
        doc("followup", a["followup"]["headline"], list(a["followup"]["paragraphs"]), t0),
    ]
    return docs


@cache
def labelled_docs() -> tuple[Doc, ...]:
    """Every doc, with its text extracted from the rendered page (cached per process)."""
    data = json.loads(BASE.read_text(encoding="utf-8"))
    rng = random.Random(1404)
    docs: list[Doc] = []
    for a in data["articles"]:
        docs.extend(expand(a, rng))
    headlines = [d.headline for d in docs]
    out = []
    for i, d in enumerate(docs):
        others = [headlines[(i * 7 + k * 13) % len(headlines)] for k in range(1, 4)]
        html = render(d, others)
        extracted = extract_article(html, f"https://outlet{d.template}.example/{d.id}")
        text = extracted.text if extracted else ""
        out.append(Doc(d.id, d.base, d.role, d.language, d.template, d.headline, d.paragraphs,
                       text))
    return tuple(out)


def labelled_pairs(docs: tuple[Doc, ...]) -> list[tuple[Doc, Doc, bool, str]]:
    """(a, b, is_copy, kind) for every pair the metrics count."""
    by_base: dict[str, list[Doc]] = {}
    for d in docs:
        by_base.setdefault(d.base, []).append(d)
    pairs: list[tuple[Doc, Doc, bool, str]] = []
    for group in by_base.values():
        story = [d for d in group if d.role not in ("same_event", "followup")]
        negatives = [d for d in group if d.role in ("same_event", "followup")]
        for i, a in enumerate(story):
            for b in story[i + 1:]:
                pairs.append((a, b, True, "copy"))
            for n in negatives:
                pairs.append((a, n, False, n.role))
    bases = [d for d in docs if d.role == "base"]
    for lang in ("en", "fa"):
        same = [d for d in bases if d.language == lang]
        for a, b in itertools.pairwise(same):
            pairs.append((a, b, False, "template"))
            pairs.append((a, next(d for d in docs if d.base == b.base and d.role == "followup"),
                          False, "template"))
    return pairs
