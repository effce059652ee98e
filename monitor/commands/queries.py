"""The query commands: search, stories, show, export, stats, reextract.

They read the database while the daemon writes (no write lock, except `reextract`), print a
table by default and JSON where asked, and turn every bad input into a one-line message and a
non-zero exit (malformed search syntax: exit 2; unknown story: exit 3).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, TextIO

from tabulate import tabulate

from monitor.commands.progress import progress
from monitor.configuration.settings import Settings
from monitor.configuration.units import parse_duration
from monitor.errors import ConfigError
from monitor.fetching.decode import decode_document
from monitor.matching import dedup
from monitor.matching.text import one_line, search_form
from monitor.polling.content import refreshed
from monitor.service.app import open_store, utc_now
from monitor.workers import WorkerPool
from storage.queries import EXPORT_COLUMNS
from storage.records import StoryLink, iso

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
    return " ".join(out)


def since_iso(value: str | None) -> str | None:
    """'24h', '7d' -> an ISO time that long ago; an ISO date passes through."""
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return value
    try:
        return iso(utc_now() - timedelta(seconds=parse_duration(value)))
    except ValueError as exc:
        raise ConfigError([f"--since: {exc}"]) from None


def search(settings: Settings, query: str, *, limit: int, topic: str | None,
           source: str | None, since: str | None, lang: str | None, as_json: bool) -> int:
    store = open_store(settings)
    try:
        rows = store.search(fts_query(query), limit=limit, topic=topic, source=source,
                            since=since_iso(since), language=lang)
    finally:
        store.close()
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if not rows:
        print("no matches")
        return 0
    print(tabulate([[r["story_id"], r["first_seen_at"], r["outlet"], one_line(r["title"], 50),
                     one_line(r["snippet"] or "", 70)] for r in rows],
                   headers=["story", "first seen", "outlet", "title", "snippet"]))
    return 0


def stories(settings: Settings, *, since: str | None, topic: str | None, limit: int,
            as_json: bool) -> int:
    store = open_store(settings)
    try:
        rows = store.story_list(since=since_iso(since), topic=topic, limit=limit)
    finally:
        store.close()
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif not rows:
        print("no stories")
    else:
        print(tabulate([[r["id"], r["first_seen_at"], r["outlet_count"], r["first_outlet"],
                         r["agency"] or "", r["topics"] or "", one_line(r["headline"], 60)]
                        for r in rows],
                       headers=["id", "first seen", "outlets", "first outlet", "agency",
                                "topics", "headline"]))
    return 0


def show(settings: Settings, story_id: int) -> int:
    store = open_store(settings)
    try:
        story, items = store.story(story_id)
        links = store.story_links(story_id)
    finally:
        store.close()
    print(f"story {story['id']}: {story['headline']}")
    print(f"  first seen {story['first_seen_at']} at {story['first_outlet']}; carried by "
          f"{story['outlet_count']} outlets ({story['item_count']} sightings); agency "
          f"{story['agency'] or '-'}")
    print(tabulate([[i["first_seen_at"], i["outlet"], i["match_kind"],
                     f"{i['similarity']:.2f}" if i["similarity"] is not None else "",
                     i["status"] + (" (removed)" if i["removed_at"] else ""),
                     one_line(i["title"], 50), i["url"] or ""] for i in items],
                   headers=["seen", "outlet", "matched by", "similarity", "status", "title",
                            "url"]))
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
    store = open_store(settings)
    try:
        rows: Iterable[dict[str, Any]] = store.export(since=since_iso(since), topic=topic)
        with progress(None, "exporting") as bar:
            if fmt == "jsonl":
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    bar.update(1)
            else:
                writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS))
                writer.writeheader()
                for row in rows:
                    writer.writerow(row)
                    bar.update(1)
    finally:
        store.close()
    return 0


def stats(settings: Settings, *, since: str | None) -> int:
    store = open_store(settings)
    try:
        data = store.stats(since_iso(since or "30d") or "")
    finally:
        store.close()
    for name, rows in data.items():
        print(f"\n{name.replace('_', ' ')}:")
        print(tabulate(rows, headers="keys") if rows else "  nothing yet")
    return 0


async def reextract(settings: Settings, *, since: str | None) -> int:
    """Run the article path again over stored raw HTML; refresh text, search columns, topics
    and signatures."""
    store = open_store(settings)
    pool = WorkerPool(settings.extraction.workers, settings.extraction.recycle_after)
    matcher = dedup.Matcher()
    done = changed = 0
    total = store.raw_page_count(since_iso(since) or "")
    try:
        await pool.start()
        last = 0
        with progress(total, "re-extracting") as bar:
            while True:
                batch = store.raw_pages_since(since_iso(since) or "", after=last)
                if not batch:
                    break
                for page in batch:
                    html, _ = decode_document(page.html, page.content_type)
                    got = await refreshed(pool, store, settings, item_id=page.item_id,
                                          outlet=page.outlet, title=page.title,
                                          language=page.language, html=html, url=page.url,
                                          reason="reextract")
                    done += 1
                    bar.update(1)
                    if got is not None:
                        changed += store.refresh_item(got, matcher, utc_now())
                last = batch[-1].item_id
    finally:
        await pool.close()
        store.close()
    print(f"{done} pages re-extracted, {changed} texts changed")
    return 0


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
    db = settings.database.path
    template = (Path(__file__).parents[1] / "datasette" / "metadata.json").read_text("utf-8")
    meta = db.with_name(db.name + ".datasette.json")
    meta.write_text(template.replace('"DATABASE"', json.dumps(db.stem)), encoding="utf-8")
    print(f"Datasette on http://{host}:{port}/ (read-only queries; Ctrl-C stops)", flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "datasette", "serve", str(db),
                              "--metadata", str(meta), "--host", host, "--port", str(port),
                              "--setting", "sql_time_limit_ms", "5000"])
    return 0  # not reached
