"""The query commands: search, stories, show, export, stats, reextract.

They read the database while the daemon writes (no write lock, except `reextract`), print a
table by default and JSON where asked, and turn every bad input into a one-line message and a
non-zero exit (malformed search syntax: exit 2; unknown story: exit 3).
"""

from __future__ import annotations

import csv
import json
import logging
import re
import sys
from collections import Counter
from dataclasses import asdict, fields, replace
from datetime import timedelta
from typing import TextIO

from tabulate import tabulate

from monitor.alerts.messages import explain_topics
from monitor.commands.progress import progress
from monitor.commands.query_options import (
    BadOption,
    check_date,
    check_filters,
    describe_sources,
    join_persian_parts,
    one_per_story,
    one_per_url,
    snippet,
    story_topics,
    terms_of,
)
from monitor.configuration.settings import Settings
from monitor.configuration.units import parse_duration
from monitor.fetching.decode import decode_document
from monitor.matching import dedup
from monitor.matching.reasons import why_lines
from monitor.matching.text import one_line, search_form
from monitor.parsing.extract import precheck
from monitor.polling.content import refresh_of
from monitor.service.app import open_store, utc_now
from monitor.workers import WorkerPool
from storage import StorageError, Store
from storage.queries import EXPORT_COLUMNS
from storage.records import StoredPage, StoryLink, iso

log = logging.getLogger("monitor.reextract")
_OPERATORS = {"AND", "OR", "NOT"}
_TOKEN = re.compile(r'"[^"]*"|\S+')


def fts_query(text: str) -> str:
    """Normalise a user's query like the indexed text, keeping FTS5 operators and quotes."""
    out = []
    for token in _TOKEN.findall(text):
        if token in _OPERATORS or token.startswith("NEAR"):
            out.append(token)
            continue
        norm = search_form(token)
        out.append(norm.replace("\u200c", ""))
    return " ".join(join_persian_parts(out))


def since_iso(value: str | None) -> str | None:
    """'24h', '7d' -> an ISO time that long ago; an ISO date passes through."""
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return check_date(value)
    try:
        return iso(utc_now() - timedelta(seconds=parse_duration(value)))
    except ValueError as exc:
        raise BadOption(f"--since: {exc}") from None


def _check(settings: Settings, **given: str | None) -> None:
    check_filters(topics=settings.topics.names(), sources=[s.id for s in settings.sources],
                  **given)


def search(settings: Settings, query: str, *, limit: int, topic: str | None,
           source: str | None, since: str | None, lang: str | None, as_json: bool) -> int:
    _check(settings, topic=topic, source=source, lang=lang)
    store = open_store(settings, readonly=True)
    try:
        found = one_per_story(store.search(fts_query(query), limit=limit * 4, topic=topic,
                                           source=source, since=since_iso(since),
                                           language=lang), limit)
        extra = store.item_texts([row.hit.id for row in found])  # only the rows shown
    finally:
        store.close()
    terms = terms_of(query)
    texts = {item_id: text for item_id, (_, text) in extra.items() if text}
    rows = [replace(row, hit=replace(row.hit, snippet=snippet(texts[row.hit.id], terms)))
            if row.hit.id in texts else row for row in found]
    if as_json:
        json.dump([r.as_json() for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if not rows:
        print("no matches")
        return 0
    print(tabulate([[r.hit.story_id, r.hit.first_seen_at, one_line(", ".join(r.outlets), 30),
                     describe_sources(r), one_line(r.hit.title, 50),
                     one_line(r.hit.snippet or "", 70)] for r in rows],
                   headers=["story", "first seen", "outlet", "source", "title", "snippet"]))
    return 0


def stories(settings: Settings, *, since: str | None, topic: str | None, limit: int,
            as_json: bool) -> int:
    _check(settings, topic=topic)
    store = open_store(settings, readonly=True)
    try:
        rows = store.story_list(since=since_iso(since), topic=topic, limit=limit)
    finally:
        store.close()
    if as_json:
        json.dump([asdict(r) for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif not rows:
        print("no stories")
    else:
        print(tabulate([[r.id, r.first_seen_at, r.outlet_count, r.first_outlet,
                         r.first_affiliation or "", r.affiliations or "",
                         r.agency or "", r.topics or "", one_line(r.headline, 60)]
                        for r in rows],
                       headers=["id", "first seen", "outlets", "first outlet", "first is",
                                "carried by", "agency", "topics", "headline"]))
    return 0


def show(settings: Settings, story_id: int) -> int:
    store = open_store(settings, readonly=True)
    try:
        story = store.story(story_id)
        topics = story_topics(store, story.representative_item_id or story.first_item_id)
        links = store.story_links(story_id)
    finally:
        store.close()
    print(f"story {story.id}: {story.headline}")
    print(f"  first seen {story.first_seen_at} at {story.first_outlet}; carried by "
          f"{story.outlet_count} outlets ({story.item_count} sightings); agency "
          f"{story.agency or '-'}")
    print("  topics: " + ("; ".join(explain_topics(topics, story.headline)) or "none"))
    print(tabulate([[i.first_seen_at, i.outlet,
                     "/".join(x for x in (i.affiliation, i.country) if x),
                     ", ".join(sources), i.match_kind,
                     f"{i.similarity:.2f}" if i.similarity is not None else "",
                     i.status + (" (removed)" if i.removed_at else ""),
                     one_line(i.title, 50), i.url or ""]
                    for i, sources in one_per_url(story.sightings)],
                   headers=["seen", "outlet", "who", "sources", "matched by", "similarity",
                            "status", "title", "url"]))
    for line in why_lines([asdict(i) for i in story.sightings]):
        print(line)
    _print_links(links)
    return 0


def _print_links(links: list[StoryLink]) -> None:
    """Related stories: the same event in other words or in the other language."""
    if not links:
        return
    print("related stories (linked, not merged):")
    print(tabulate([[lnk.other_story_id, lnk.kind, f"{lnk.score:.2f}", lnk.other_first_seen_at,
                     lnk.other_first_outlet, lnk.other_languages,
                     ", ".join(json.loads(lnk.evidence).get("anchors", [])[:6]),
                     one_line(lnk.other_headline, 50)] for lnk in links],
                   headers=["story", "kind", "score", "first seen", "first outlet",
                            "languages", "shared anchors", "headline"]))


def export(settings: Settings, *, fmt: str, since: str | None, topic: str | None,
           out: TextIO | None = None) -> int:
    out = out or sys.stdout
    _check(settings, topic=topic)
    store = open_store(settings, readonly=True)
    try:
        rows = store.export(since=since_iso(since), topic=topic)
        with progress(None, "exporting") as bar:
            if fmt == "jsonl":
                for row in rows:
                    values = {name: getattr(row, name) for name in EXPORT_COLUMNS}
                    out.write(json.dumps(values, ensure_ascii=False) + "\n")
                    bar.update(1)
            else:
                writer = csv.writer(out)
                writer.writerow(EXPORT_COLUMNS)
                for row in rows:
                    writer.writerow([getattr(row, name) for name in EXPORT_COLUMNS])
                    bar.update(1)
    finally:
        store.close()
    return 0


def stats(settings: Settings, *, since: str | None) -> int:
    store = open_store(settings, readonly=True)
    try:
        data = store.stats(since_iso(since or "30d") or "")
    finally:
        store.close()
    for table in fields(data):
        rows = [asdict(row) for row in getattr(data, table.name)]
        print(f"\n{table.name.replace('_', ' ')}:")
        print(tabulate(rows, headers="keys") if rows else "  nothing yet")
    return 0


async def reextract(settings: Settings, *, since: str | None) -> int:
    """Run the article path again over stored raw HTML; refresh text, search columns, topics
    and signatures. Every page gets the pre-checks polling applies (size and element caps)
    and its own outcome; one bad page never stops the others. Ends with a summary."""
    store = open_store(settings)
    pool = WorkerPool(settings.extraction.workers, settings.extraction.recycle_after)
    outcomes: Counter[str] = Counter()
    matcher = dedup.Matcher()
    total = store.raw_page_count(since_iso(since) or "")
    try:
        await pool.start()
        last = 0
        with progress(total, "re-extracting") as bar:
            while batch := store.raw_pages_since(since_iso(since) or "", after=last):
                for page in batch:
                    outcome = await _reextract_page(settings, store, pool, matcher, page)
                    outcomes[outcome.split(":", 1)[0]] += 1
                    if ":" in outcome:
                        log.warning("reextract item=%s %s", page.item_id, outcome)
                    bar.update(1)
                last = batch[-1].item_id
    finally:
        await pool.close()
        store.close()
    done = sum(outcomes.values())
    print(f"{done} pages re-extracted, {outcomes['changed']} texts changed; "
          f"{outcomes['same']} unchanged, {outcomes['refused']} refused by the pre-checks (as "
          f"polling refused them), {outcomes['empty']} without main text, "
          f"{outcomes['failed']} failed")
    return 1 if outcomes["failed"] and outcomes["failed"] == done else 0


async def _reextract_page(settings: Settings, store: Store, pool: WorkerPool,
                          matcher: dedup.Matcher, page: StoredPage) -> str:
    """One page through the article path: changed | same | empty | refused: why |
    failed: why."""
    ex = settings.extraction
    if not page.html:
        return "failed: the stored page cannot be read"
    html, _ = decode_document(page.html, page.content_type)
    too_big = precheck(html, ex.max_html_bytes, ex.max_elements)
    if too_big:
        return f"refused: {too_big}"
    got, article = await refresh_of(pool, store, settings, item_id=page.item_id,
                                    outlet=page.outlet, title=page.title,
                                    language=page.language, html=html, url=page.url,
                                    reason="reextract")
    if got is None:
        return "empty" if article.status == "empty" else \
            f"failed: {one_line(article.detail or article.status, 200)}"
    try:
        changed = store.refresh_item(got, matcher, utc_now())
    except StorageError as exc:
        return f"failed: {exc}"
    return "changed" if changed else "same"


def serve(settings: Settings, *, host: str, port: int) -> int:
    """Run Datasette on the live database (the `datasette` extra), replacing this process so
    that signals reach it directly. Its SQL runs on read-only connections."""
    import importlib.util
    import os
    from pathlib import Path

    if importlib.util.find_spec("datasette") is None:
        print("monitor serve needs the datasette extra: pip install 'feed-monitor[datasette]'",
              file=sys.stderr)
        return 1
    import tempfile

    from storage.connection import readonly_uri

    db = settings.database.path
    if not db.is_file():
        print(f"{db}: no database here yet", file=sys.stderr)
        return 1
    template = (Path(__file__).parents[1] / "datasette" / "metadata.json").read_text("utf-8")
    from monitor.web.links import datasette_metadata

    # the metadata goes to a temporary file: the database folder may not be ours to write
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".json", delete=False,
                                     prefix="feed-monitor-datasette-") as meta:
        meta.write(datasette_metadata(template.replace('"DATABASE"', json.dumps(db.stem)),
                                      settings))
    # a folder we may not write and no -wal: open it immutable, as the read-only commands do
    database = ["-i", str(db)] if "immutable=1" in readonly_uri(db) else [str(db)]
    print(f"Datasette on http://{host}:{port}/ (read-only queries; Ctrl-C stops)", flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "datasette", "serve", *database,
                              "--metadata", meta.name, "--host", host, "--port", str(port),
                              "--setting", "sql_time_limit_ms", "5000"])
    return 0  # not reached
