"""The labelled set of related coverage: fictional events (tests/data/related_events.json, written
for this project) told in English and Persian, in two independent wordings, lightly rewritten,
reused as background, and next to a different event in the same city on the same day.

Docs of one event (en and fa each):
  a      the first report (wording A)
  rw     a light rewrite of `a`: words swapped, sentences and the last paragraph dropped
  b      the same event in other words (wording B), written independently
  bg     a later, distinct article that reuses four of `a`'s paragraphs verbatim as background
  neg    a different event in the same city on the same day (a hard negative)

Pairs and their kinds: rewrite (a, rw); background (a, bg: a distinct story, not a rewrite);
same_event (a, b) in one language; translation (a_en, a_fa) and (b_en, b_fa); none (a, neg) in
each language and (a_en, neg_fa).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "data" / "related_events.json"

EN_A = {
    "defection": [
        "{person_en}, {role_en}, has defected and is now outside Iran, two people close to the "
        "family said on {day_en}.",
        "Officials in {city_en} did not respond to requests for comment, and the {inst_en} had "
        "made no statement about the departure by the evening.",
        "The official had worked there for {n} years and was regarded as a loyal manager until "
        "recently, according to a former colleague.",
    ],
    "protest": [
        "Hundreds of people took to the streets of {city_en} on {day_en}, and {person_en}, "
        "{role_en}, said at least {n} were present at the start of the gathering.",
        "Security forces were deployed around the square and witnesses said several people were "
        "detained as the crowd moved toward the offices of the {inst_en}.",
        "Videos shared online showed riot police firing tear gas into a side street while "
        "protesters chanted and clapped.",
    ],
    "strike": [
        "About {n} workers in {city_en} walked off the job on {day_en}, said {person_en}, "
        "{role_en}, in the largest strike in the sector this year.",
        "Managers at the {inst_en} site tried to persuade the strikers to return, according to "
        "footage shared on social media, but most stayed outside the gates.",
        "The strikers demanded permanent contracts, the payment of back wages and an end to the "
        "summoning of their representatives.",
    ],
}
EN_COMMON = [
    "Analysts said the events in {city_en} would be watched closely in the capital, where the "
    "government has struggled to contain public anger over prices and rights.",
    "Reporting from inside the country remains difficult, and the account could not be "
    "independently verified by this newspaper.",
]
EN_B = {
    "defection": [
        "Iranian authorities face awkward questions after {person_en} broke with the government "
        "and fled the country, a departure first reported on {day_en}.",
        "Before leaving, {person_en} was {role_en} with {n} years of service, acquaintances say.",
    ],
    "protest": [
        "Demonstrators filled central {city_en} on {day_en} in one of the biggest rallies the "
        "city has seen in months, with organisers putting the early turnout at {n}.",
        "{person_en}, {role_en}, told us that police had surrounded the crowd within an hour.",
    ],
    "strike": [
        "Work came to a halt for roughly {n} employees in {city_en} on {day_en} as a labour "
        "dispute that had simmered for months boiled over.",
        "{person_en}, {role_en}, said by telephone that nobody would return until wages were "
        "paid in full.",
    ],
}
EN_B_COMMON = [
    "Neither the {inst_en} nor the local authorities in {city_en} offered any comment.",
    "Opposition groups abroad seized on the news, while state media ignored it entirely.",
    "Independent confirmation was not possible given restrictions on the press.",
]
EN_BG = [
    "A week after the events described below, prosecutors in {city_en} opened a new case and "
    "summoned relatives of those involved for questioning.",
    "Lawyers for the families said the summons had no legal basis and would be challenged "
    "before a higher court in the coming days.",
]
FA_A = {
    "defection": [
        "{person_fa}، {role_fa}، از ایران خارج شده و از حکومت جدا شده است؛ دو نفر از نزدیکان "
        "خانواده او روز {day_fa} این خبر را دادند.",
        "مقامات {city_fa} به درخواست‌ها برای اظهار نظر پاسخ ندادند و {inst_fa} تا شامگاه درباره "
        "خروج او بیانیه‌ای منتشر نکرده بود.",
        "به گفته یکی از همکاران سابقش، او {n} سال در این سمت کار کرده بود و تا همین اواخر "
        "مدیری وفادار شمرده می‌شد.",
    ],
    "protest": [
        "صدها نفر روز {day_fa} در خیابان‌های {city_fa} تجمع کردند و {person_fa}، {role_fa}، گفت "
        "در آغاز تجمع دست‌کم {n} نفر حاضر بودند.",
        "نیروهای امنیتی در اطراف میدان مستقر شدند و شاهدان گفتند هنگام حرکت جمعیت به سوی "
        "ساختمان {inst_fa} چند نفر بازداشت شدند.",
        "ویدیوهای منتشرشده در شبکه‌های اجتماعی نشان می‌دهد نیروهای ضدشورش در یک خیابان فرعی "
        "گاز اشک‌آور شلیک کردند و معترضان شعار می‌دادند.",
    ],
    "strike": [
        "حدود {n} کارگر در {city_fa} روز {day_fa} دست از کار کشیدند؛ {person_fa}، {role_fa}، "
        "این اعتصاب را بزرگ‌ترین اعتصاب امسال در این بخش خواند.",
        "به گزارش تصاویری که در شبکه‌های اجتماعی منتشر شد، مدیران {inst_fa} تلاش کردند "
        "اعتصاب‌کنندگان را به کار برگردانند اما بیشتر آنان بیرون درها ماندند.",
        "اعتصاب‌کنندگان خواستار قرارداد دائم، پرداخت دستمزدهای معوق و پایان احضار "
        "نمایندگانشان شدند.",
    ],
}
FA_COMMON = [
    "تحلیلگران گفتند رویدادهای {city_fa} در پایتخت به دقت دنبال می‌شود؛ جایی که دولت برای "
    "مهار خشم عمومی از گرانی و نقض حقوق با دشواری روبه‌رو است.",
    "گزارشگری از داخل کشور همچنان دشوار است و این روایت به طور مستقل قابل تأیید نبود.",
]
FA_B = {
    "defection": [
        "جدایی {person_fa} از حکومت و خروج او از کشور که روز {day_fa} خبرش منتشر شد، "
        "مسئولان جمهوری اسلامی را با پرسش‌های دشواری روبه‌رو کرده است.",
        "آشنایانش می‌گویند {person_fa} پیش از رفتن {role_fa} بود و {n} سال سابقه داشت.",
    ],
    "protest": [
        "معترضان روز {day_fa} مرکز {city_fa} را پر کردند؛ یکی از بزرگ‌ترین تجمع‌های این شهر "
        "در ماه‌های اخیر که برگزارکنندگان شمار حاضران را در ابتدا {n} نفر اعلام کردند.",
        "{person_fa}، {role_fa}، به ما گفت پلیس در کمتر از یک ساعت جمعیت را محاصره کرد.",
    ],
    "strike": [
        "با بالا گرفتن اختلافی صنفی که ماه‌ها ادامه داشت، روز {day_fa} کار حدود {n} نفر از "
        "کارکنان در {city_fa} متوقف شد.",
        "{person_fa}، {role_fa}، تلفنی گفت تا زمانی که دستمزدها کامل پرداخت نشود کسی به کار "
        "برنمی‌گردد.",
    ],
}
FA_B_COMMON = [
    "نه {inst_fa} و نه مقامات محلی {city_fa} در این باره اظهار نظری نکردند.",
    "گروه‌های مخالف در خارج از کشور این خبر را برجسته کردند، در حالی که رسانه‌های دولتی "
    "آن را کاملاً نادیده گرفتند.",
    "به دلیل محدودیت‌های مطبوعاتی، تأیید مستقل این خبر ممکن نبود.",
]
FA_BG = [
    "یک هفته پس از رویدادهایی که در ادامه آمده است، دادستانی {city_fa} پرونده تازه‌ای گشود "
    "و بستگان افراد درگیر را برای بازجویی احضار کرد.",
    "وکلای خانواده‌ها گفتند این احضارها مبنای قانونی ندارد و در روزهای آینده در دادگاهی "
    "بالاتر به آن اعتراض خواهند کرد.",
]
# light rewrites: a copy editor's swaps
EN_SWAPS = {"said": "stated", "people": "individuals", "officials": "authorities",
            "according to": "citing", "workers": "staff", "several": "a number of",
            "recently": "lately", "remains": "is still", "statement": "announcement",
            "toward": "towards", "closely": "carefully", "largest": "biggest",
            "the crowd": "the protesters", "tried": "attempted", "shared": "posted"}
FA_SWAPS = {"گفت": "اظهار داشت", "گفتند": "اعلام کردند", "مقامات": "مسئولان",
            "کارگر": "نفر از کارگران", "تلاش کردند": "کوشیدند", "همچنان": "هنوز",
            "دشوار": "سخت", "منتشر": "پخش", "بیشتر": "اغلب", "خبر را دادند": "خبر را تأیید کردند",
            "به دقت": "با دقت", "شاهدان": "شاهدان عینی", "نزدیکان": "آشنایان"}


@dataclass(frozen=True)
class Doc:
    id: str
    event: str
    role: str  # a | rw | b | bg | neg
    language: str
    title: str
    text: str
    hour: float  # when it was published, hours after the event's first report


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    kind: str  # rewrite | background | same_event | translation | none


def _fill(lines: list[str], facts: dict[str, Any]) -> list[str]:
    return [line.format(**facts) for line in lines]


def _rewrite(paragraphs: list[str], swaps: dict[str, str]) -> list[str]:
    out = []
    for p in paragraphs[:-1]:
        for old, new in swaps.items():
            p = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, p)
        out.append(p)
    return out


def _docs_of(e: dict[str, Any], neg: dict[str, Any], index: int) -> list[Doc]:
    other = {**neg, "city_en": e["city_en"], "city_fa": e["city_fa"], "day_en": e["day_en"],
             "day_fa": e["day_fa"]}
    docs = []
    for lang, a_t, common, b_t, b_common, bg, swaps in (
            ("en", EN_A, EN_COMMON, EN_B, EN_B_COMMON, EN_BG, EN_SWAPS),
            ("fa", FA_A, FA_COMMON, FA_B, FA_B_COMMON, FA_BG, FA_SWAPS)):
        a = [*_fill(a_t[e["kind"]], e), e[f"detail_{lang}"], *_fill(common, e)]
        b = _fill(b_t[e["kind"]] + b_common, e)
        n = [*_fill(a_t[neg["kind"]], other), neg[f"detail_{lang}"], *_fill(common, other)]
        title = e[f"person_{lang}"] if e["kind"] == "defection" else e[f"city_{lang}"]
        lead = 0.0 if lang == "fa" else 1.0  # Persian outlets first, an hour ahead
        parts = [("a", a, lead), ("rw", _rewrite(a, swaps), lead + 0.5), ("b", b, lead + 2),
                 ("bg", _fill(bg, e) + a[1:5], lead + 20), ("neg", n, lead + 0.2)]
        for role, paras, hour in parts:
            docs.append(Doc(f"{e['id']}-{role}-{lang}", e["id"], role, lang,
                            f"{title} ({role})", "\n".join(paras), hour + index * 72))
    return docs


@cache
def related_docs() -> tuple[Doc, ...]:
    events = json.loads(EVENTS.read_text(encoding="utf-8"))
    docs: list[Doc] = []
    for i, e in enumerate(events):
        neg = next(events[(i + k) % len(events)] for k in range(7, 27)
                   if events[(i + k) % len(events)]["kind"] != e["kind"])
        docs += _docs_of(e, neg, i)
    return tuple(docs)


def related_pairs(docs: tuple[Doc, ...] | None = None) -> list[Pair]:
    events = sorted({d.event for d in docs or related_docs()})
    out = []
    for ev in events:
        def d(role: str, lang: str, ev: str = ev) -> str:
            return f"{ev}-{role}-{lang}"
        for lang in ("en", "fa"):
            out += [Pair(d("a", lang), d("rw", lang), "rewrite"),
                    Pair(d("a", lang), d("bg", lang), "background"),
                    Pair(d("a", lang), d("b", lang), "same_event"),
                    Pair(d("a", lang), d("neg", lang), "none")]
        out += [Pair(d("a", "en"), d("a", "fa"), "translation"),
                Pair(d("b", "en"), d("b", "fa"), "translation"),
                Pair(d("a", "en"), d("neg", "fa"), "none")]
    return out
