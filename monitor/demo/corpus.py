"""The demo corpus: fictional articles (corpus/articles.json) expanded into published pieces.

An article is written once; each of its placements becomes a *piece* on one outlet: possibly
retitled, with a different lede, cut to its first paragraphs, with an agency credit or extra
paragraphs, published in the article's round or later. Wire stories thus appear as realistic
copies across outlets, which is what the dedup layer must recognise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS_PATH = Path(__file__).parent / "corpus" / "articles.json"


@dataclass(frozen=True)
class Piece:
    article_id: str
    outlet: str
    language: str
    kind: str  # defection | protest | unrelated
    agency: str | None
    round: int
    headline: str
    summary: str
    author: str | None
    paragraphs: tuple[str, ...]
    slug: str


def _slug(text: str, fallback: str) -> str:
    ascii_words = re.findall(r"[a-z0-9]+", text.lower())
    slug = "-".join(ascii_words[:8])
    return slug if len(ascii_words) >= 3 else fallback


def _with_credit(paragraphs: list[str], credit: str | None) -> list[str]:
    if not credit:
        return paragraphs
    credit = credit.strip()
    if credit.endswith(("-", "—", "،", ":")) and paragraphs:
        return [f"{credit} {paragraphs[0]}", *paragraphs[1:]]
    return [*paragraphs, credit]


def _piece(article: dict[str, Any], placement: dict[str, Any]) -> Piece:
    paragraphs = list(article["paragraphs"])
    if placement.get("lede"):
        paragraphs[0] = placement["lede"]
    if placement.get("truncate"):
        paragraphs = paragraphs[: int(placement["truncate"])]
    paragraphs += list(placement.get("extra_paragraphs") or [])
    paragraphs = _with_credit(paragraphs, placement.get("credit"))
    headline = placement.get("headline") or article["headline"]
    return Piece(
        article_id=article["id"], outlet=placement["outlet"], language=article["language"],
        kind=article["kind"], agency=article.get("agency"),
        round=int(article["round"]) + int(placement.get("delay_rounds") or 0),
        headline=headline, summary=article.get("summary") or paragraphs[0][:200],
        author=article.get("author"), paragraphs=tuple(paragraphs),
        slug=_slug(headline, article["id"]),
    )


def load_pieces(path: Path = CORPUS_PATH) -> list[Piece]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [_piece(a, p) for a in data["articles"] for p in a["outlets"]]
