"""`run_source`: the one orchestrator. One source run, top to bottom:

    fetch the feed or page     conditional GET; 304 is an outcome, not an error
    skip an unchanged body     same bytes as last time: nothing to parse
    parse -> entries           in a worker process with a hard timeout
    plan                       known entries dropped (key, GUID or link); revisions and retries kept
    gate                       general sources: title/summary must match a gate term, else skipped
    fetch + extract articles   same client and caps; extraction in workers; feed text as fallback
    annotate                   agency credit, dedup signature, topics, alert requests
    write                      ONE transaction: items, stories, topics, alerts, fetch log, state
    on a MonitorError          recorded on the source, retried after a back-off; others unaffected

Everything with a side effect comes in through `Deps`, so tests pass real servers and files.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from monitor.alerts import rules as alert_rules
from monitor.alerts.policy import AlertPolicy
from monitor.configuration.sources import SourceConfig
from monitor.errors import FetchError, MonitorError, ParseError, RobotsError, WorkerError
from monitor.fetching.http import Fetched
from monitor.fetching.urlcheck import url_problem
from monitor.matching import related
from monitor.matching.gate import Gate
from monitor.matching.text import one_line
from monitor.parsing.feeds import ParsedFeed, publisher_of
from monitor.parsing.identity import Action, Planned, keyed, lookup_values, plan_entries
from monitor.polling import schedule, source_kinds
from monitor.polling.analysis import Analysis, topics_context
from monitor.polling.articles import (
    ArticleResult,
    fetch_article,
    reused,
    skipped_content,
    with_analysis,
    without_download,
)
from monitor.polling.content import analysis_of, fingerprint_for
from monitor.polling.deps import Deps
from storage import StorageError
from storage.records import (
    FetchLog,
    ItemRevision,
    NewItem,
    PollRecord,
    SourceState,
)

log = logging.getLogger("monitor.polling.pipeline")


@dataclass(frozen=True)
class SourceReport:
    """The outcome of one source run (also the one log line)."""

    source: str
    outcome: str  # new | no_new | not_modified | unchanged | error
    status: int | None = None
    new: int = 0
    skipped: int = 0
    revised: int = 0
    failed_articles: int = 0
    copies: int = 0
    alerts: int = 0
    articles_fetched: int = 0
    conditional: bool = False
    ms: int = 0
    error: str | None = None
    problem: str | None = None  # a tolerated defect (malformed but usable feed)
    new_story_ids: tuple[int, ...] = ()

    def log_line(self) -> str:
        line = (f"source={self.source} outcome={self.outcome} status={self.status or '-'} "
                f"new={self.new} skipped={self.skipped} revised={self.revised} "
                f"copies={self.copies} alerts={self.alerts} ms={self.ms}")
        if self.error:
            line += f' error="{one_line(self.error, 200)}"'
        return line


async def run_source(deps: Deps, source: SourceConfig) -> SourceReport:
    now = deps.clock()
    started = time.monotonic()
    state = deps.store.source_state(source.id)
    fetches: list[FetchLog] = []
    try:
        fetched = await _fetch_listing(deps, source, state, fetches, now)
        if fetched.not_modified:
            return _finish(deps, source, state, now, started, fetches, "not_modified", fetched)
        body_hash = hashlib.sha1(fetched.body).hexdigest()
        if body_hash == state.body_hash and source_kinds.kind_of(source).conditional:
            return _finish(deps, source, state, now, started, fetches, "unchanged", fetched)
        parsed = await _parse(deps, source, fetched)
        follow = source_kinds.kind_of(source).follow
        if follow is not None:  # a sitemap index's sitemaps, a channel's older messages
            parsed = await follow(source_kinds.Follow.for_run(
                deps, source, fetches, now, state.last_success_at is None), parsed)
        rows = keyed(parsed.entries)
        known = deps.store.known_entries(source.id, *lookup_values(rows))
        plan = plan_entries(parsed.entries, known, deps.settings.polling.max_entries_per_run,
                            rows=rows)
        gated, to_fetch = _gate(deps.gate, source, plan.work)
        articles = await _fetch_articles(deps, source, to_fetch, fetches)
        new_items, revisions = await _annotate(deps, source, state, now,
                                               _build(source, gated, articles, now))
        record = _record(deps, source, state, now, fetched, parsed, body_hash, fetches,
                         new_items, revisions, complete=_complete(plan.deferred, articles))
        summary = deps.store.record_poll(record, deps.matcher,
                                         timedelta(seconds=deps.settings.dedup.window),
                                         AlertPolicy(deps.settings.alerts.rollups,
                                                     deps.settings.alerts.revisits),
                                         related.LINKER)
    except (MonitorError, StorageError) as exc:
        return _fail(deps, source, state, now, started, fetches, exc)
    report = SourceReport(
        source=source.id, outcome=record.outcome, status=fetched.status,
        new=_count(new_items, skipped=False), skipped=_count(new_items, skipped=True),
        revised=len(revisions), articles_fetched=len(to_fetch), copies=summary.copies,
        alerts=summary.alerts,
        failed_articles=sum(1 for a in articles.values() if a.content.status == "error"),
        conditional=fetched.conditional, ms=_ms(started), problem=parsed.problem,
        new_story_ids=summary.new_story_ids,
    )
    log.info("%s", report.log_line())
    return report


def _record(deps: Deps, source: SourceConfig, state: SourceState, now: datetime,
            fetched: Fetched, parsed: ParsedFeed, body_hash: str, fetches: list[FetchLog],
            new_items: list[NewItem], revisions: list[ItemRevision], *,
            complete: bool) -> PollRecord:
    """What the run writes. An incomplete run (deferred entries, failed or robots-pending
    articles) keeps no validators: a 304 to the next conditional request would hide the
    pending work."""
    return PollRecord(
        source_id=source.id, checked_at=now, outcome="new" if new_items else "no_new",
        next_check_at=_next_check(deps, source, state, now, fetched, parsed.ttl_minutes),
        status=fetched.status,
        publish_gap_s=schedule.smoothed_gap(state.publish_gap_s, state.last_new_item_at, now,
                                            _count(new_items, skipped=False)),
        etag=fetched.headers.get("etag") if complete else None,
        last_modified=fetched.headers.get("last-modified") if complete else None,
        body_hash=body_hash if complete else None,
        problem=f"warning: {parsed.problem}" if parsed.problem else None,
        fetches=tuple(fetches), new_items=tuple(new_items), revisions=tuple(revisions))


def _count(items: list[NewItem], *, skipped: bool) -> int:
    return sum(1 for i in items if (i.content.status == "skipped") is skipped)


# -- stages -------------------------------------------------------------------------------------


async def _fetch_listing(deps: Deps, source: SourceConfig, state: SourceState,
                         fetches: list[FetchLog], now: datetime) -> Fetched:
    kind = source_kinds.kind_of(source)
    conditional = kind.conditional and bool(state.etag or state.last_modified)
    fetcher = deps.fetcher_for(source)
    if kind.robots_listing and deps.robots is not None and source.robots == "obey":
        verdict = await deps.robots.allowed(source.url, fetcher)
        if verdict is not True:
            raise RobotsError("robots.txt disallows this listing page" if verdict is False
                              else "robots.txt could not be read; trying again later")
    try:
        fetched = await fetcher.fetch(
            source.url, etag=state.etag if conditional else None,
            last_modified=state.last_modified if conditional else None, accept=kind.accept)
    except FetchError as exc:
        fetches.append(FetchLog(kind.purpose, state.url, now, 0, exc.status,
                                "error", conditional=conditional, error=str(exc)))
        raise
    fetches.append(FetchLog(kind.purpose, state.url, now, fetched.duration_ms, fetched.status,
                            "not_modified" if fetched.not_modified else "ok",
                            fetched.wire_bytes, fetched.conditional))
    return fetched


async def _parse(deps: Deps, source: SourceConfig, fetched: Fetched) -> ParsedFeed:
    task = source_kinds.kind_of(source).parse_task
    try:
        parsed: ParsedFeed = await deps.pool.run(
            task, fetched.body, fetched.content_type, fetched.final_url,
            timeout=deps.settings.extraction.parse_timeout)
    except ParseError:
        raise
    except WorkerError as exc:  # a timeout, a crash or a fault in the parser
        raise ParseError(str(exc)) from None
    return parsed


def _gate(gate: Gate, source: SourceConfig,
          work: list[Planned]) -> tuple[list[tuple[Planned, str | None]], list[Planned]]:
    """Pair each planned entry with a skip reason (None = fetch it); returns the fetch list too."""
    paired: list[tuple[Planned, str | None]] = []
    for p in work:
        reason = None
        if p.link is None:
            link = (p.entry.link or "").strip()
            problem = url_problem(link) if link.lower().startswith(("http:", "https:")) else None
            reason = f"link refused: {problem}" if problem else "no http(s) link"
        elif source.gated and gate.check(p.entry.title, p.entry.summary, source.language) is None:
            reason = "gate: no gate term in title or summary"
        paired.append((p, reason))
    return paired, [p for p, reason in paired if reason is None]


async def _fetch_articles(deps: Deps, source: SourceConfig, work: list[Planned],
                          fetches: list[FetchLog]) -> dict[str, ArticleResult]:
    limit = asyncio.Semaphore(deps.settings.polling.article_concurrency)

    fetcher = deps.fetcher_for(source)
    now = deps.clock()
    elsewhere = deps.store.fetched_elsewhere(
        [p.canonical for p in work if p.canonical and p.action is Action.NEW], source.id,
        now - timedelta(days=1))

    async def one(p: Planned) -> tuple[str, ArticleResult]:
        if p.action is Action.NEW and p.canonical in elsewhere:
            return p.key, reused(elsewhere[p.canonical], now)
        if source_kinds.kind_of(source).direct(p.entry):  # a message that links no article
            return p.key, source_kinds.message_content(p.entry, deps.clock())
        async with limit:
            if deps.robots is not None and source.robots == "obey":
                verdict = await deps.robots.allowed(p.link or "", fetcher)
                if verdict is False:
                    return p.key, without_download(p.entry, "robots.txt disallows this page",
                                                   deps.clock())
                if verdict is None:  # stored with the feed's text, retried on later runs
                    return p.key, without_download(
                        p.entry, "robots.txt could not be read; will retry", deps.clock(),
                        retry=True)
            return p.key, await fetch_article(fetcher, deps.pool, deps.settings, p.entry,
                                              p.link or "", deps.clock, source.language)

    async def guarded(p: Planned) -> tuple[str, ArticleResult]:
        try:
            return await one(p)
        except Exception as exc:  # a bug costs this item (retried later), not the run
            log.exception("source=%s article=%s internal error", source.id, p.key)
            return p.key, without_download(
                p.entry, f"article failed: {type(exc).__name__}", deps.clock(), retry=True)

    results = dict(await asyncio.gather(*(guarded(p) for p in work)))
    fetches.extend(r.fetch for r in results.values() if r.fetch is not None)
    return results


@dataclass(frozen=True)
class _Draft:
    """A new item or a revision before its analysis is complete; `analysis` (when the worker
    that extracted the article made it) describes exactly `record.content`."""

    record: NewItem | ItemRevision
    outlet: str
    analysis: Analysis | None = None


def _build(source: SourceConfig, gated: list[tuple[Planned, str | None]],
           articles: dict[str, ArticleResult], now: datetime) -> list[_Draft]:
    drafts: list[_Draft] = []
    for p, skip_reason in gated:
        analysis = None
        if skip_reason is not None:
            content = skipped_content(p.entry, skip_reason, now)
        else:
            content, analysis = articles[p.key].content, articles[p.key].analysis
        if p.action is Action.NEW:
            outlet = (publisher_of(p.entry) or "unknown") if source.aggregator else source.outlet
            drafts.append(_Draft(NewItem(
                entry_key=p.key, guid=p.entry.guid, url=p.link, canonical_url=p.canonical,
                outlet=outlet, summary=p.entry.summary or None, updated_at=p.entry.updated,
                feed_hash=p.entry.feed_hash, content=content), outlet, analysis))
        elif p.known is not None:
            if skip_reason is not None and p.known.status != "skipped":
                continue  # a revised entry that no longer passes the gate keeps its text
            reason = "retry" if p.action is Action.RETRY else "feed entry changed"
            drafts.append(_Draft(ItemRevision(
                item_id=p.known.item_id, feed_hash=p.entry.feed_hash,
                updated_at=p.entry.updated, content=content, reason=reason),
                source.outlet, analysis))
    return drafts


_Written = TypeVar("_Written", NewItem, ItemRevision)


async def _annotate(deps: Deps, source: SourceConfig, state: SourceState, now: datetime,
                    drafts: list[_Draft]) -> tuple[list[NewItem], list[ItemRevision]]:
    """Language, search forms, agency, topics and dedup fingerprint (outlet boilerplate left
    out) of every item that is not skipped, then its alert requests. Most drafts arrive with
    the analysis the extracting worker made; the others are analysed here, in the pool. A
    source's first successful run is a silent back-fill."""
    settings, alerts = deps.settings, deps.settings.alerts
    backfill = state.last_success_at is None
    context = topics_context(settings.topics)

    async def finish(d: _Draft) -> NewItem | ItemRevision:
        c = d.record.content
        if c.status == "skipped":
            return d.record
        a = d.analysis or await analysis_of(deps.pool, settings, c.title, c.text,
                                            source.language, c.language, context)
        content = c if d.analysis is not None else with_analysis(c, a)  # the worker's: applied
        if not c.text:
            return replace(d.record, content=content)
        wanted = alert_rules.requests(alerts.rules, alerts.channels, a.topics, a.language,
                                      source.id, c.published_at, now, alerts.max_age, backfill)
        return replace(d.record, content=content, topics=a.topics, alerts=wanted,
                       fingerprint=fingerprint_for(deps.store, settings, d.outlet, c.text,
                                                   a.fingerprint), related=a.related)

    done = await asyncio.gather(*(finish(d) for d in drafts))
    return ([r for r in done if isinstance(r, NewItem)],
            [r for r in done if isinstance(r, ItemRevision)])


# -- scheduling and the end of a run ------------------------------------------------------------


def _next_check(deps: Deps, source: SourceConfig, state: SourceState, now: datetime,
                fetched: Fetched | None, ttl_minutes: int | None = None) -> datetime:
    p = deps.settings.polling
    return schedule.next_check(
        now, source.interval, min_interval=p.min_interval, max_interval=p.max_interval,
        jitter=p.jitter, rng=deps.rng, publish_gap=state.publish_gap_s, ttl_minutes=ttl_minutes,
        cache_control=fetched.headers.get("cache-control") if fetched else None)


def _backoff(deps: Deps, state: SourceState, now: datetime, exc: Exception) -> datetime:
    p = deps.settings.polling
    return schedule.backoff(now, state.error_count, base=p.error_backoff_base,
                            cap=p.error_backoff_cap, jitter=p.jitter, rng=deps.rng,
                            retry_after=getattr(exc, "retry_after", None))


def _finish(deps: Deps, source: SourceConfig, state: SourceState, now: datetime, started: float,
            fetches: list[FetchLog], outcome: str, fetched: Fetched) -> SourceReport:
    record = PollRecord(source_id=source.id, checked_at=now, outcome=outcome,
                        next_check_at=_next_check(deps, source, state, now, fetched),
                        status=fetched.status, fetches=tuple(fetches), keep_validators=True)
    try:
        deps.store.record_poll(record)
    except StorageError as exc:
        return _fail(deps, source, state, now, started, fetches, exc)
    report = SourceReport(source=source.id, outcome=outcome, status=fetched.status,
                          conditional=fetched.conditional, ms=_ms(started))
    log.info("%s", report.log_line())
    return report


def _fail(deps: Deps, source: SourceConfig, state: SourceState, now: datetime, started: float,
          fetches: list[FetchLog], exc: Exception) -> SourceReport:
    message = one_line(str(exc) or type(exc).__name__, 300)
    status = getattr(exc, "status", None)
    record = PollRecord(source_id=source.id, checked_at=now, outcome="error",
                        next_check_at=_backoff(deps, state, now, exc), status=status,
                        error=message, fetches=tuple(fetches))
    try:
        deps.store.record_poll(record)
    except StorageError as storage_exc:
        log.error("source=%s outcome=error error=%r (and the error could not be recorded: %s)",
                  source.id, message, storage_exc)
    report = SourceReport(source=source.id, outcome="error", status=status, error=message,
                          ms=_ms(started))
    log.warning("%s", report.log_line())
    return report


def record_failure(deps: Deps, source: SourceConfig, exc: Exception,
                   started: float) -> SourceReport:
    """The poll loop's last resort: an exception nobody expected is recorded on the source
    like any error (error count, back-off, health), so it is neither hidden nor re-polled
    at once."""
    message = f"internal error: {type(exc).__name__}: {one_line(str(exc), 200)}"
    try:
        state = deps.store.source_state(source.id)
    except StorageError as storage_exc:
        log.error("source=%s %s (not recorded: %s)", source.id, message, storage_exc)
        return SourceReport(source=source.id, outcome="error", error=message, ms=_ms(started))
    return _fail(deps, source, state, deps.clock(), started, [], MonitorError(message))


def _complete(deferred: int, articles: dict[str, ArticleResult]) -> bool:
    """Whether the body may be remembered as handled (no deferred entries, no failed fetch)."""
    return deferred == 0 and all(a.content.status != "error" for a in articles.values())


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
