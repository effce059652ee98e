"""End to end: the `monitor` command, in a subprocess, against the bundled outlet simulator.

The simulator serves the ten fictional outlets on 127.0.0.2-.11; the configuration is the one
`monitor demo` writes. A second `monitor once --all` over unchanged outlets must download no
article page again and must send conditional requests.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from monitor.demo.outlets import OUTLETS
from monitor.demo.run import write_config
from monitor.demo.simulator import Simulator
from tests.conftest import REPO


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=180, check=False)


def test_monitor_once_on_the_simulator_then_again_with_nothing_new(tmp_path: Path) -> None:
    with Simulator(slow=False) as sim:
        sim.set_round(2)
        config = str(write_config(tmp_path, sim))

        first = monitor("--config", config, "once", "--all")
        assert first.returncode == 0, first.stderr
        assert "sources polled" in first.stdout
        pages_first = sum(sim.article_requests.values())
        assert pages_first > 0

        db = sqlite3.connect(tmp_path / "feed-monitor.db")
        per_outlet = dict(db.execute(
            "SELECT source_id, count(*) FROM items WHERE status != 'skipped' GROUP BY source_id"))
        working = {o.id for o in OUTLETS} - {"broken-gazette"}
        assert working <= set(per_outlet), f"outlets with no items: {working - set(per_outlet)}"
        broken = db.execute("SELECT error_count, last_error FROM sources "
                            "WHERE id = 'broken-gazette'").fetchone()
        assert broken[0] == 1 and broken[1]
        # Persian outlets: text stored as published, dates converted (Solar Hijri in payam-daily)
        fa = db.execute("SELECT count(*), sum(published_at IS NOT NULL), sum(word_count > 50) "
                        "FROM items WHERE source_id = 'payam-daily' AND status != 'skipped'"
                        ).fetchone()
        assert fa[0] > 0 and fa[1] == fa[0] and fa[2] == fa[0]
        # the aggregator's items belong to their publishers, not to the aggregator
        publishers = {r[0] for r in db.execute(
            "SELECT DISTINCT outlet FROM items WHERE source_id = 'newsfinder'")}
        assert publishers and "*" not in publishers
        # the gate kept unrelated pieces of general outlets out, as audit rows
        assert db.execute("SELECT count(*) FROM items WHERE status = 'skipped' "
                          "AND status_detail LIKE 'gate:%'").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM items_fts").fetchone()[0] == \
            db.execute("SELECT count(*) FROM items WHERE status != 'skipped'").fetchone()[0]

        conditional_before = sum(sim.conditional_requests.values())
        second = monitor("--config", config, "once", "--all")
        assert second.returncode == 0, second.stderr
        assert sum(sim.article_requests.values()) == pages_first  # nothing downloaded again
        conditional = sum(sim.conditional_requests.values()) - conditional_before
        assert conditional >= len(OUTLETS) - 2  # all but the no-validator and broken outlets
        outcomes = dict(db.execute("SELECT id, last_outcome FROM sources"))
        assert outcomes["gulf-observer"] == "not_modified"
        assert outcomes["meridian-times"] == "unchanged"  # no 304 there, but the same body

        stories = monitor("--config", config, "stories", "--limit", "5")
        assert stories.returncode == 0 and "headline" in stories.stdout
        db.close()


def test_demo_wire_stories_collapse_into_one_story_each(tmp_path: Path) -> None:
    """All rounds in-process; every story must hold pieces of one article, and every article's
    fetched pieces must sit in one story (the corpus says which pieces are copies)."""
    import asyncio

    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    with Simulator(slow=False) as sim:
        settings = load_settings(write_config(tmp_path, sim))
        url_to_article = {}

        async def rounds() -> None:
            async with running(settings) as deps:
                for number in range(1, 5):
                    for piece in sim.set_round(number):
                        url_to_article[sim.article_url(piece)] = piece.article_id
                    await poll_sources(deps, deps.store.source_ids())

        asyncio.run(rounds())
    db = sqlite3.connect(tmp_path / "feed-monitor.db")
    rows = db.execute("SELECT url, story_id FROM items WHERE story_id IS NOT NULL").fetchall()
    articles_of_story: dict[int, set[str]] = {}
    stories_of_article: dict[str, set[int]] = {}
    for url, story in rows:
        article = url_to_article[url]
        articles_of_story.setdefault(story, set()).add(article)
        stories_of_article.setdefault(article, set()).add(story)
    merged = {s: a for s, a in articles_of_story.items() if len(a) > 1}
    split = {a: s for a, s in stories_of_article.items() if len(s) > 1}
    assert not merged and not split, (merged, split)
    wire = db.execute("SELECT count(*) FROM stories WHERE outlet_count >= 3 AND agency IS NOT NULL"
                      ).fetchone()[0]
    assert wire >= 8
    db.close()


def test_monitor_run_polls_on_schedule_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    with Simulator(slow=False) as sim:
        sim.set_round(1)
        config = write_config(tmp_path, sim)
        text = config.read_text().replace('interval = "5m"', 'interval = "5m"\ntick = "200ms"')
        config.write_text(text)
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            deadline = time.monotonic() + 60
            polled = 0
            while time.monotonic() < deadline and polled < len(OUTLETS):
                time.sleep(0.3)
                try:
                    db = sqlite3.connect(tmp_path / "feed-monitor.db")
                    polled = db.execute("SELECT count(*) FROM sources "
                                        "WHERE last_checked_at IS NOT NULL").fetchone()[0]
                    db.close()
                except sqlite3.Error:
                    continue
            assert polled == len(OUTLETS)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "daemon stopped" in err and "outcome=new" in err
