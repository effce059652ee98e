"""`monitor demo`: the whole job, offline, against the local outlet simulator.

Writes a configuration for the simulator's addresses into the demo folder (the same files a user
writes), then runs several publishing rounds through the real pipeline — fetch, parse, gate,
extract, store — and prints what a user wants to see. A last round publishes nothing, to show
that unchanged sources cost conditional requests and no article downloads.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tabulate import tabulate

from monitor.configuration.settings import load_settings
from monitor.demo.outlets import OUTLETS
from monitor.demo.simulator import Simulator
from monitor.matching.text import one_line
from monitor.polling.pipeline import SourceReport
from monitor.service.app import alerting, poll_sources, running

# the shipped topics, from the package (a wheel has no config/ folder)
REPO_TOPICS = Path(__file__).resolve().parents[1] / "defaults" / "topics.toml"

MONITOR_TOML = """\
# Written by `monitor demo` for the local outlet simulator. Not for production use.
[database]
path = "feed-monitor.db"

[polling]
interval = "5m"
concurrency = 10

[fetch]
allow_networks = ["127.0.0.0/8"]   # the simulator serves on loopback
deadline = "15s"
connect_timeout = "3s"
read_timeout = "5s"

[extraction]
workers = 2
timeout = "10s"

[health]
expect_daemon = false   # the demo polls by itself; `monitor status` needs no daemon here

[alerts]
max_age = "7d"   # the simulator's pieces carry recent dates; keep every round's alerts

[[alerts.rule]]
name = "demo"
topics = ["defections", "protests"]
channels = ["console"]

[alerts.console]
enabled = true
flood_max = 100  # the demo publishes a busy day in seconds; show every story's alert
"""


# who the fictional outlets are, for the "who reported it" queries (monitor serve)
AFFILIATIONS = {
    "meridian-times": ("international", "GB"), "gulf-observer": ("independent", "AE"),
    "northern-daily": ("international", "GB"), "capital-ledger": ("independent", "US"),
    "rights-monitor": ("human-rights", "NO"), "persian-herald": ("diaspora", "GB"),
    "azadi-news": ("diaspora", "DE"), "payam-daily": ("state", "IR"),
    "broken-gazette": ("independent", "US"), "newsfinder": ("aggregator", "US"),
}


def write_config(folder: Path, sim: Simulator) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("feed-monitor.db*"):
        stale.unlink()
    (folder / "monitor.toml").write_text(MONITOR_TOML, encoding="utf-8")
    lines = ["# The simulator's outlets, written by `monitor demo`.\n"]
    for o in sim.outlets:
        who = AFFILIATIONS.get(o.id)
        extra = f'affiliation = "{who[0]}"\ncountry = "{who[1]}"\n' if who else ""
        outlet = "*" if o.format == "aggregator" else o.name
        lines.append(
            f'[[source]]\nid = "{o.id}"\nname = "{o.name}"\n'
            f'kind = "{"page" if o.format == "page" else "feed"}"\n'
            f'url = "{sim.feed_url(o)}"\nlanguage = "{o.language}"\noutlet = "{outlet}"\n'
            f'scope = "{o.scope}"\n{extra}\n')
    (folder / "sources.toml").write_text("".join(lines), encoding="utf-8")
    shutil.copyfile(REPO_TOPICS, folder / "topics.toml")
    return folder / "monitor.toml"


def _round_table(reports: list[SourceReport]) -> str:
    rows = [[r.source, r.outcome, r.status or "", r.new, r.skipped, r.articles_fetched,
             one_line(r.error or "", 60)] for r in sorted(reports, key=lambda r: r.source)]
    return tabulate(rows, headers=["outlet", "outcome", "http", "new", "skipped (gate)",
                                   "pages fetched", "error"])


async def run_demo(folder: Path, rounds: int = 4) -> int:
    started = time.monotonic()
    with Simulator() as sim:
        config = write_config(folder, sim)
        settings = load_settings(config)
        print(f"Simulator: {len(OUTLETS)} fictional outlets on 127.0.0.2-127.0.0."
              f"{1 + len(OUTLETS)}, port {sim.port}; database {settings.database.path}\n")
        latencies: list[float] = []
        async with running(settings) as deps, \
                alerting(settings, deps.store, deps.clock) as dispatcher:
            for number in range(1, rounds + 2):
                published = time.monotonic()
                fresh = sim.set_round(number) if number <= rounds else []
                label = f"Round {number}: {len(fresh)} pieces published" if number <= rounds \
                    else f"Round {number}: nothing new published (steady state)"
                before = dict(sim.conditional_requests)
                pages_before = sum(sim.article_requests.values())
                round_start = time.monotonic()
                reports = await poll_sources(deps, deps.store.source_ids())
                conditional = sum(sim.conditional_requests.values()) - sum(before.values())
                pages = sum(sim.article_requests.values()) - pages_before
                print(f"== {label} — polled in {time.monotonic() - round_start:.1f}s: "
                      f"{pages} article pages downloaded, {conditional} conditional requests")
                print(_round_table(reports))
                if number == 1:
                    print("(a source's first poll is a silent back-fill: stored, not alerted)")
                sent = await dispatcher.run_once()
                if sent.sent:
                    handed_over = time.monotonic() - published
                    latencies.append(handed_over)
                    print(f"-- {sent.sent} alerts handed to the console channel "
                          f"{handed_over:.1f}s after publication")
                print()
            _print_stories(deps.store)
            if latencies:
                print(f"\nAlert latency, publication to hand-over (poll right after publishing): "
                      f"max {max(latencies):.1f}s; in the daemon add up to one poll interval.")
    print(f"\nDemo finished in {time.monotonic() - started:.1f}s.")
    print(f"""
Explore the database:
  sqlite3 {settings.database.path} "SELECT outlet, count(*) FROM items GROUP BY outlet"
  sqlite3 {settings.database.path} \\
    "SELECT id, outlet_count, headline FROM stories ORDER BY outlet_count DESC LIMIT 10"
  sqlite3 {settings.database.path} \\
    "SELECT title, status_detail FROM items WHERE status = 'skipped' LIMIT 10"
  sqlite3 {settings.database.path} \\
    "SELECT rowid, title FROM items_fts WHERE items_fts MATCH 'defect*' LIMIT 5"
  .venv/bin/monitor --config {config} stories""")
    return 0


def _print_stories(store: object) -> None:
    from storage import Store

    assert isinstance(store, Store)
    rows = store.stories(limit=15)
    counts = store.counts()
    print(f"Stored: {counts.items} items, {counts.stories} stories, "
          f"{counts.fetches} fetches logged.\nTop stories by outlets carrying them:")
    print(tabulate([[s.id, s.outlet_count, s.agency or "", ", ".join(s.outlets)[:60],
                     one_line(s.headline, 60)] for s in rows],
                   headers=["story", "outlets", "agency", "carried by", "headline"]))
