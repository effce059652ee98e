"""What each `monitor` subcommand does, as plain functions taking validated settings."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

from tabulate import tabulate

from monitor.commands.progress import progress
from monitor.configuration.settings import Settings
from monitor.errors import ChannelError
from monitor.matching import dedup
from monitor.matching.text import one_line
from monitor.polling.pipeline import SourceReport
from monitor.service import reindex
from monitor.service.app import alerting, maintain, open_store, poll_sources, running, utc_now
from monitor.service.lifecycle import InstanceLock
from storage.records import AlertRow, parse_iso


def check_config(settings: Settings) -> int:
    enabled = [s for s in settings.sources if s.enabled]
    print(f"{settings.config_path}: ok")
    print(f"  database: {settings.database.path}")
    print(f"  sources: {len(settings.sources)} ({len(enabled)} enabled; "
          f"{sum(s.language == 'fa' for s in enabled)} Persian, "
          f"{sum(s.gated for s in enabled)} gated)")
    print(f"  topics: {', '.join(settings.topics.names())}")
    channels = settings.alerts.enabled_channels()
    print(f"  alert channels: {', '.join(channels) or 'none'}")
    if not channels:
        print("warning: every alert channel is disabled, so nobody will be alerted; enable "
              "one in [alerts.email], [alerts.slack], [alerts.webhook] or [alerts.console]",
              file=sys.stderr)
    return 0


def migrate(settings: Settings) -> int:
    store = open_store(settings)  # opening migrates under the write lock
    try:
        print(f"{settings.database.path}: schema up to date")
    finally:
        store.close()
    return 0


def report_table(reports: list[SourceReport]) -> str:
    rows = [[r.source, r.outcome, r.status or "", r.new, r.skipped, r.revised, r.ms,
             one_line(r.error or r.problem or "", 70)] for r in reports]
    return tabulate(rows, headers=["source", "outcome", "http", "new", "skipped", "revised",
                                   "ms", "error"])


async def once(settings: Settings, *, sources: list[str] | None, every: bool) -> int:
    unknown = [s for s in sources or [] if settings.source(s) is None]
    if unknown:
        print(f"unknown source id: {', '.join(unknown)}", file=sys.stderr)
        return 2
    with InstanceLock(settings.database.path, "stop it to poll by hand (or let it poll: it "
                      "already does)"):
        return await _once(settings, sources, every)


async def _once(settings: Settings, sources: list[str] | None, every: bool) -> int:
    async with running(settings) as deps:
        if sources:
            ids = sources
        elif every:
            ids = deps.store.source_ids()
        else:
            ids = deps.store.due_sources(deps.clock())
        if not ids:
            print("no source is due (use --all to poll every source)")
            return 0
        reports = await poll_sources(deps, ids)
        maintain(deps)
        async with alerting(settings, deps.store, deps.clock) as dispatcher:
            sent = await dispatcher.run_once()
    print(report_table(reports))
    failed = sum(r.outcome == "error" for r in reports)
    print(f"\n{len(reports)} sources polled, {sum(r.new for r in reports)} new items, "
          f"{failed} failed; alerts: {sent.sent} sent, {sent.retried} to retry, "
          f"{sent.failed} failed")
    return 1 if reports and failed == len(reports) else 0


def rebuild_index(settings: Settings) -> int:
    """Fingerprint every stored text again with the current parameters; rebuild the index."""
    store = open_store(settings)
    try:
        started = time.monotonic()
        total = store.text_item_count()
        pending = store.rebuild_pending()
        if pending is not None:
            print(f"resuming the rebuild started at {pending.started_at} "
                  f"({pending.items_done} items done)")
            total = max(total - pending.items_done, 0)
        with progress(total, "fingerprinting") as bar:
            report = reindex.rebuild(settings, store, utc_now(), step=bar.update)
    finally:
        store.close()
    print(f"{report.items} items fingerprinted with {dedup.params_tag()}; "
          f"{report.indexed_stories} stories indexed; {report.detached} copies detached "
          f"({time.monotonic() - started:.1f}s)")
    return 0


def alerts_list(settings: Settings, *, limit: int, state: str | None) -> int:
    store = open_store(settings, readonly=True)
    try:
        rows = store.alert_rows(limit=limit, states=(state,) if state else ())
    finally:
        store.close()
    if not rows:
        print("the outbox is empty")
        return 0
    print(tabulate([[r.id, r.story_id, r.channel, r.kind, r.state, r.attempts,
                     r.sent_at or r.next_attempt_at, one_line(r.headline, 50),
                     one_line(r.last_error or "", 40)] for r in rows],
                   headers=["id", "story", "channel", "kind", "state", "tries",
                            "sent / next try", "headline", "error"]))
    return 0


async def alerts_test(settings: Settings, *, channel: str | None) -> int:
    """Send a test message through each enabled channel (or one); exit 1 if any failed."""
    store = open_store(settings)
    try:
        async with alerting(settings, store) as dispatcher:
            names = [c for c in dispatcher.channels if channel in (None, c)]
            if not names:
                print(f"no enabled channel{' named ' + channel if channel else ''}",
                      file=sys.stderr)
                return 1
            failed = 0
            for name in names:
                try:
                    await asyncio.wait_for(dispatcher.channels[name].send([_TEST_ROW], False),
                                           settings.alerts.timeout)
                    print(f"{name}: ok")
                except (ChannelError, TimeoutError, OSError) as exc:
                    failed += 1
                    print(f"{name}: failed: {one_line(str(exc) or type(exc).__name__, 200)}")
                except Exception as exc:  # a clear line, never a traceback (nor the URL)
                    failed += 1
                    print(f"{name}: failed: {type(exc).__name__} (check the channel's URL and "
                          f"settings with `monitor check-config`)")
    finally:
        store.close()
    return 1 if failed else 0


def alerts_mute(settings: Settings, story_id: int) -> int:
    store = open_store(settings)
    try:
        store.mute_story(story_id)
    finally:
        store.close()
    print(f"story {story_id}: muted (no more roll-up alerts)")
    return 0


_TEST_ROW = AlertRow(
    id=0, story_id=0, item_id=None, channel="", kind="test", state="sending", attempts=1,
    created_at="", next_attempt_at="", sent_at=None, last_error=None, payload="{}",
    digest=False, headline="feed-monitor test alert: this channel works",
    url="https://github.com/feed-monitor/feed-monitor", outlets=("feed-monitor",),
    outlet_count=1, first_outlet="feed-monitor", first_seen_at="")


def status(settings: Settings) -> int:
    """Exit 0 when healthy; 1 when the daemon is down or a source is failing or silent."""
    store = open_store(settings, readonly=True)
    h = settings.health
    now = utc_now()
    try:
        sources = store.source_health(now, h.failing_after, h.silent_factor, h.min_history)
        queue = store.alert_counts()
        daemon = store.daemon_state()
        size = store.size_bytes()
        rebuilding = store.rebuild_pending()
    finally:
        store.close()
    print(tabulate([[s.id, s.state if s.enabled else "disabled", s.error_count,
                     s.last_success_at or "-", s.items_24h, s.last_new_item_at or "-",
                     next_check(s.next_check_at, now) if s.enabled else "-",
                     one_line(s.last_error or "", 50) if s.error_count else ""]
                    for s in sources],
                   headers=["source", "health", "errors", "last success", "items 24h",
                            "last new item", "next check", "last error"]))
    problems = [f"source {s.id} is {s.state}" for s in sources
                if s.enabled and s.state in ("failing", "silent")]
    beat = parse_iso(daemon.heartbeat_at) if daemon else None
    if daemon is None or daemon.stopped_at or beat is None or \
            (now - beat).total_seconds() > h.heartbeat_stale:
        why = f" (last heartbeat {daemon.heartbeat_at})" if daemon else " (never started)"
        running_line = "not running" + why
        if h.expect_daemon:
            problems.append("the daemon is not running" + why)
        else:  # the demo, or a database filled by `monitor once`
            running_line += "; not needed here (health.expect_daemon = false)"
    else:
        running_line = (f"running, pid {daemon.pid} on {daemon.host} since "
                        f"{daemon.started_at}, heartbeat {daemon.heartbeat_at}")
    if rebuilding is not None:
        problems.append(f"an index rebuild (started {rebuilding.started_at}) was interrupted "
                        f"after {rebuilding.items_done} items; the index is partial until "
                        f"the daemon or `monitor once` next starts, or `monitor rebuild-index` "
                        f"runs: they finish it")
    print(f"\ndaemon: {running_line}")
    print("alerts: " + (", ".join(f"{n} {state}" for state, n in sorted(queue.items()))
                         or "none"))
    print(f"database: {settings.database.path} ({size / 1_048_576:.1f} MiB with WAL)")
    if problems:
        print("\nUNHEALTHY: " + "; ".join(problems))
        return 1
    print("\nhealthy")
    return 0


def next_check(at: str | None, now: datetime) -> str:
    """'in 12m' / 'due' / '-': when the daemon polls the source again."""
    moment = parse_iso(at)
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return "due"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"in {int(seconds)}s"
    return f"in {minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"in {minutes}m"


def backup(settings: Settings, target: Path) -> int:
    db = settings.database.path
    live = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    if any(target.resolve() == p.resolve() for p in live):
        print(f"backup: {target} is the live database; give another path", file=sys.stderr)
        return 2
    store = open_store(settings, readonly=True)
    try:
        started = time.monotonic()
        store.backup(target)
    finally:
        store.close()
    print(f"{target}: {target.stat().st_size / 1_048_576:.1f} MiB copied in "
          f"{time.monotonic() - started:.1f}s")
    return 0
