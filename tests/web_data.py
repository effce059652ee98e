"""Data for the reader's tests: the demo's database, plus hostile stories written directly.

The demo runs the real pipeline against the outlet simulator once per test session. The hostile
stories are inserted with plain SQL (the pipeline would clean some of them first): headlines
built to break out of HTML, attributes, templates or text direction, and a `javascript:` link.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sqlite3
from pathlib import Path

from monitor.demo.run import run_demo
from monitor.matching.text import search_form

HOSTILE_HEADLINES = [
    "<script>window.pwned = 1; alert(1)</script> Envoy defects",
    '"><img src=x onerror="window.pwned=2"> Strike in Tabriz',
    "<svg onload=alert(3)></svg><iframe src=javascript:alert(4)></iframe> rally",
    "{{ 7*7 }} {% raw %} ${7*7} template probe",
    "دیپلمات ایرانی در اسلو پناهنده شد \u202eevil\u202c",
    "</title></head><body><h1>injected</h1>",
]
HOSTILE_AT = "2026-01-02T08:00:00Z"


def demo_database(folder: Path) -> Path:
    """Run the demo (real pipeline, simulator) into ``folder``; return its database path."""
    with contextlib.redirect_stdout(io.StringIO()):
        asyncio.run(run_demo(folder, rounds=4))
    return folder / "feed-monitor.db"


def add_hostile_stories(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    ids = []
    try:
        with conn:
            for n, headline in enumerate(HOSTILE_HEADLINES):
                ids.append(_add_story(conn, n, headline))
    finally:
        conn.close()
    return ids


def _add_story(conn: sqlite3.Connection, n: int, headline: str) -> int:
    language = "fa" if "دیپلمات" in headline else "en"
    at = HOSTILE_AT.replace("08:00", f"08:{n:02d}")
    story = conn.execute(
        "INSERT INTO stories (headline, first_seen_at, last_seen_at, first_outlet, languages) "
        "VALUES (?, ?, ?, ?, ?)", (headline, at, at, "<b>Outlet</b>", language)).lastrowid
    text = f"{headline}\n\nBody with <p onclick=alert(5)>markup</p> and &amp; entities."
    item = conn.execute(
        "INSERT INTO items (source_id, entry_key, url, outlet, title, first_seen_at, language, "
        "text, status, story_id, match_kind) VALUES ((SELECT min(id) FROM sources), ?, ?, ?, "
        "?, ?, ?, ?, 'ok', ?, 'first')",
        (f"hostile:{n}", "javascript:window.pwned=3", "<b>Outlet</b>", headline, at, language,
         text, story)).lastrowid
    conn.execute("UPDATE stories SET first_item_id = ?, representative_item_id = ? WHERE id = ?",
                 (item, item, story))
    conn.execute("INSERT INTO item_topics (item_id, topic, score, matched) VALUES (?, ?, ?, ?)",
                 (item, "protests", 5.0, json.dumps(["<i>x</i>", "@g:<b>y</b>"])))
    conn.execute("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                 (item, search_form(headline), search_form(text)))
    return int(story or 0)
