"""The `monitor` command line: every command with its help text and its arguments (the
README lists the same commands; a test keeps the two in step)."""

from __future__ import annotations

import argparse
from typing import Any

COMMANDS = {
    "check-config": "validate every configuration file and report all problems (exit 2 if any)",
    "migrate": "create or upgrade the database schema",
    "once": "poll the sources that are due (or --source ID, or --all) once and print a summary",
    "run": "run the daemon: poll due sources on a schedule until SIGTERM/SIGINT",
    "stories": "list recent stories with outlets, agency and topics (--since, --topic, --json)",
    "show": "one story with every sighting and how each matched",
    "search": "full-text search over titles and texts in both languages, with snippets",
    "export": "stream items as JSON lines or CSV (--since, --topic)",
    "stats": "items, stories and copies saved per day, outlet and topic",
    "reextract": "run extraction again over stored raw HTML (after an upgrade, say)",
    "serve": "browse and query the database with Datasette, read-only (the datasette extra)",
    "web": "the reader for people: stories, their spread and trends in a browser, read-only",
    "rebuild-index": "recompute every dedup signature and the near-duplicate index",
    "status": "sources' health, the alert queue, the database and the daemon; exit 1 if unhealthy",
    "backup": "an online copy of the database (SQLite's backup API) while the daemon runs",
    "alerts": "the alert outbox: list, test (send a test message per channel), mute STORY",
    "demo": "run the whole job offline against the bundled outlet simulator",
    "sources": "the outlets: list, add URL, check [ID...], import FILE.opml, export (OPML)",
    "init": "write a starting configuration (the shipped defaults) into a folder",
}


def common_options() -> argparse.ArgumentParser:
    """--config and -v, accepted after the command too (`monitor stories --config x -v`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="path of monitor.toml")
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="more log detail (-v info, -vv debug)")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="feed-monitor: watch news outlets for Iranian defections and protests.")
    parser.add_argument("--config", help="path of monitor.toml (default: $FEED_MONITOR_CONFIG, "
                        "./config/monitor.toml, /etc/feed-monitor/monitor.toml)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log detail (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_options()
    for name, text in COMMANDS.items():
        sub.add_parser(name, help=text, description=text, parents=[common])
    _operation_args(sub)
    _query_args(sub)
    _alerts_args(sub, common)
    _sources_parser(sub.choices["sources"])
    _setup_args(sub)
    return parser


def _operation_args(sub: Any) -> None:
    once = sub.choices["once"]
    group = once.add_mutually_exclusive_group()
    group.add_argument("--source", action="append", metavar="ID",
                       help="poll this source (repeatable), due or not")
    group.add_argument("--all", action="store_true", help="poll every enabled source")
    sub.choices["backup"].add_argument("path", help="where to write the copy")
    sub.choices["reextract"].add_argument("--since", help="only pages fetched since")


def _query_args(sub: Any) -> None:
    stories = sub.choices["stories"]
    stories.add_argument("--limit", type=int, default=20, help="how many stories (default 20)")
    stories.add_argument("--since", help="e.g. 24h, 7d or 2026-01-20")
    stories.add_argument("--topic")
    stories.add_argument("--json", action="store_true")
    sub.choices["show"].add_argument("story", type=int)
    search = sub.choices["search"]
    search.add_argument("query", help='words, "phrases", prefix*, AND/OR/NOT (FTS5 syntax)')
    for name in ("--topic", "--source", "--since", "--lang"):
        search.add_argument(name)
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true")
    export = sub.choices["export"]
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--since")
    export.add_argument("--topic")
    sub.choices["stats"].add_argument("--since", help="default 30d")
    sub.choices["serve"].add_argument("--host", default="127.0.0.1")
    sub.choices["serve"].add_argument("--port", type=int, default=8001)
    sub.choices["web"].add_argument("--host", help="default web.host (127.0.0.1); any other "
                                    "address needs web.token")
    sub.choices["web"].add_argument("--port", type=int, help="default web.port (8002)")


def _alerts_args(sub: Any, common: argparse.ArgumentParser) -> None:
    alerts = sub.choices["alerts"].add_subparsers(dest="alerts_command", required=True,
                                                  metavar="ACTION")
    listing = alerts.add_parser("list", help="show the outbox with states and errors",
                                parents=[common])
    listing.add_argument("--limit", type=int, default=30)
    listing.add_argument("--state", choices=["pending", "sending", "sent", "failed"])
    test = alerts.add_parser("test", help="send a test message through each enabled channel",
                             parents=[common])
    test.add_argument("--channel", help="only this channel")
    mute = alerts.add_parser("mute", help="stop roll-up alerts for a story", parents=[common])
    mute.add_argument("story", type=int, help="story id")


def _setup_args(sub: Any) -> None:
    init = sub.choices["init"]
    init.add_argument("folder", nargs="?", default="/etc/feed-monitor",
                      help="where to write monitor.toml, sources.toml, topics.toml "
                           "(default /etc/feed-monitor)")
    init.add_argument("--database", help="database.path to write, e.g. "
                      "/var/lib/feed-monitor/feed-monitor.db")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.add_argument("--unit", action="store_true",
                      help="print the systemd unit instead (redirect it into /etc/systemd/system)")
    demo = sub.choices["demo"]
    demo.add_argument("--rounds", type=int, default=4, help="publishing rounds (default 4)")
    demo.add_argument("--dir", default="demo-output",
                      help="where the demo writes its config and database (default demo-output)")
    demo.add_argument("--serve", action="store_true",
                      help="only run the outlets, publishing a round every --every, for "
                           "`monitor run` against them; Ctrl-C stops")
    demo.add_argument("--every", default="1m", help="--serve: time between rounds (default 1m)")


def _sources_parser(parser: argparse.ArgumentParser) -> None:
    from monitor.configuration.sources import AFFILIATIONS, KINDS

    actions = parser.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="sources with kind, affiliation, health and next check")
    add = actions.add_parser("add", help="discover the feeds of a URL, show a sample and what "
                             "the gate would do, then add one to sources.toml")
    add.add_argument("url")
    add.add_argument("--pick", type=int, default=1, help="which discovered source (default 1)")
    add.add_argument("--dry-run", action="store_true", help="show, write nothing")
    for name in ("--id", "--name", "--outlet", "--language", "--country", "--category"):
        add.add_argument(name)
    add.add_argument("--scope", choices=["general", "topic"], default="general")
    add.add_argument("--affiliation", choices=AFFILIATIONS)
    check = actions.add_parser("check", help="probe each source once: status, kind, entries, "
                               "newest entry, problems; exit 1 if any fails")
    check.add_argument("ids", nargs="*", metavar="ID")
    imp = actions.add_parser("import", help="add the subscriptions of an OPML file (a dry run "
                             "unless --yes); duplicate URLs are refused")
    imp.add_argument("file")
    imp.add_argument("--yes", action="store_true", help="write the new sources")
    actions.add_parser("export", help=f"the sources as OPML 2.0 (kinds: {', '.join(KINDS)})")
