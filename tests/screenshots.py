"""`make screenshots`: the story list, a Persian story page and the trends page as PNG files.

Runs the demo (the real pipeline against the outlet simulator) into a temporary folder, serves
the reader on 127.0.0.1 and photographs it with headless chromium into docs/screenshots/.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from monitor.web.app import ReaderConfig
from tests.browser import browser
from tests.web_data import demo_database
from tests.webserver import serve_reader

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
WIDTH = 1280


def persian_story(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT id FROM stories WHERE languages = 'fa' "
                           "ORDER BY outlet_count DESC, id LIMIT 1").fetchone()
    finally:
        conn.close()
    return int(row[0])


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="feed-monitor-shots-") as tmp:
        db = demo_database(Path(tmp))
        pages = {"stories.png": ("/", 1400), "story-persian.png":
                 (f"/stories/{persian_story(db)}", 1600), "trends.png": ("/trends", 2100)}
        config = ReaderConfig(db, ("defections", "protests"), "http://127.0.0.1:8001/")
        with serve_reader(config) as base, browser(WIDTH, 900) as driver:
            for name, (path, tallest) in pages.items():
                driver.set_window_size(WIDTH, 900)
                driver.get(base + path)
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(WIDTH, min(int(height) + 100, tallest))
                driver.save_screenshot(str(OUT / name))
                print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
