"""What each page of the reader shows: request parameters in, a template name and values out.

Parameters are checked here (a bad value is a 400 page that says what is wrong, never a
traceback); the queries are in `storage.reader` and `storage.reader_stats`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request

from monitor.commands.queries import fts_query
from monitor.fetching.urls import is_http_url
from monitor.web import charts
from monitor.web import format as fmt
from storage import NotFound, StorageError
from storage import reader as rd
from storage import reader_stats as st
from storage.queries import BadQuery
from storage.records import iso

SPANS = {"": None, "24h": 1, "7d": 7, "30d": 30, "90d": 90}
MATCH_WORDS = {"first": "first report", "url": "same link", "exact": "identical text",
               "near": "near-identical text"}
PER_PAGE = 30


class Config(Protocol):
    @property
    def database(self) -> Path: ...
    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


Builder = Callable[[Any, Request], tuple[str, dict[str, Any]]]


class PageError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def connection(config: Config) -> Iterator[sqlite3.Connection]:
    try:
        conn = rd.open_readonly(config.database)
    except StorageError as exc:
        raise PageError(str(exc), 503) from None
    try:
        yield conn
    except sqlite3.Error as exc:
        raise PageError(f"the database could not answer: {exc}", 503) from None
    finally:
        conn.close()


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        raise PageError(f"page must be a whole number from 1, not {raw!r}")
    return int(raw)


def _choice(request: Request, name: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    value = request.query_params.get(name, "")
    if value and value not in allowed:
        raise PageError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")
    return value or None


def stories(config: Config, request: Request) -> tuple[str, dict[str, Any]]:
    now = config.clock()
    with connection(config) as conn:
        choices = rd.filter_choices(conn)
        topics = list(config.topics) or rd.known_topics(conn)
        span = _choice(request, "since", [k for k in SPANS if k])
        days = SPANS[span or ""]
        f = rd.StoryFilter(
            topic=_choice(request, "topic", topics),
            language=_choice(request, "lang", choices["languages"]),
            outlet=_choice(request, "outlet", choices["outlets"]),
            since=iso(now - timedelta(days=days)) if days else None,
            page=_page_number(request), per_page=PER_PAGE)
        listing = rd.story_list(conn, f)
    previous, following = fmt.page_numbers(f.page, listing.has_next)
    params = {k: v for k, v in {"topic": f.topic, "lang": f.language, "outlet": f.outlet,
                                "since": span}.items() if v}
    return "stories.html", {
        "listing": listing, "filters": params, "choices": choices, "now": now,
        "topics": topics, "spans": list(SPANS),
        "previous": previous, "following": following, "ago": fmt.ago}


def story(config: Config, request: Request) -> tuple[str, dict[str, Any]]:
    story_id = int(request.path_params["story_id"])
    with connection(config) as conn:
        try:
            detail = rd.story(conn, story_id)
        except NotFound:
            raise PageError(f"there is no story {story_id}", 404) from None
    paragraphs = [p.strip() for p in detail.text.split("\n") if p.strip()]
    removed = [s for s in detail.sightings if s.removed_at]
    return "story.html", {
        "d": detail, "s": detail.summary, "paragraphs": paragraphs, "removed": removed,
        "chart": charts.spread(detail.sightings, f"Outlets carrying story {story_id} over time"),
        "first": detail.sightings[0] if detail.sightings else None,
        "safe_url": lambda u: u if is_http_url(u) else None,
        "outlets": fmt.distinct(s.outlet for s in detail.sightings)}


def search(config: Config, request: Request) -> tuple[str, dict[str, Any]]:
    query = request.query_params.get("q", "").strip()
    page = _page_number(request)
    lang = request.query_params.get("lang") or None
    values: dict[str, Any] = {"q": query, "lang": lang or "", "hits": [], "page": page,
                              "previous": None, "following": None}
    if not query:
        return "search.html", values
    if len(query) > 500:
        raise PageError("the query is longer than 500 characters")
    match = fts_query(query)
    terms = fmt.query_terms(match)
    with connection(config) as conn:
        try:
            hits = st.search(conn, match, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE,
                             language=lang)
        except BadQuery as exc:
            raise PageError(f"{exc}. Words, \"a phrase\", prefix*, AND/OR/NOT work.") from None
    values["previous"], values["following"] = fmt.page_numbers(page, len(hits) > PER_PAGE)
    values["hits"] = [{"hit": h, "title": fmt.mark_all(h.title, terms),
                       "snippet": fmt.highlight(h.text, terms),
                       "url": h.url if is_http_url(h.url) else None}
                      for h in hits[:PER_PAGE]]
    return "search.html", values


def trends(config: Config, request: Request) -> tuple[str, dict[str, Any]]:
    days = 90 if request.query_params.get("days") == "90" else 30
    now = config.clock()
    since = iso(now - timedelta(days=days)) or ""
    with connection(config) as conn:
        quarter = st.stories_per_day(conn, now, 90)
        month = st.last_days(quarter, 30)
        firsts = st.first_reporters(conn, since)
        languages = st.language_volume(conn, since)
    return "trends.html", {
        "days": days, "month": month, "quarter": quarter, "firsts": firsts,
        "languages": languages,
        "month_chart": charts.daily_lines(month.days, month.series,
                                          "Stories per day per topic, last 30 days"),
        "quarter_chart": charts.daily_lines(quarter.days, quarter.series,
                                            "Stories per day per topic, last 90 days"),
        "firsts_chart": charts.bars([(c.key, c.value) for c in firsts],
                                    f"Outlets by stories first reported, last {days} days"),
        "languages_chart": charts.bars([(v.language, v.stories) for v in languages],
                                       f"Stories per language, last {days} days")}


def sources(config: Config, request: Request) -> tuple[str, dict[str, Any]]:
    now = config.clock()
    with connection(config) as conn:
        rows = st.sources(conn, now)
    return "sources.html", {"rows": rows, "now": now, "ago": fmt.ago}
