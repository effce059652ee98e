"""Wiring: build the daemon's parts from `Settings`, and poll a set of sources concurrently."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import IO

import httpx

from monitor.alerts import channels
from monitor.alerts.dispatch import Dispatcher
from monitor.configuration.settings import Settings
from monitor.configuration.sources import SourceConfig
from monitor.fetching.http import Fetcher
from monitor.fetching.robots import Robots
from monitor.fetching.urlcheck import redact_url
from monitor.matching.gate import Gate
from monitor.polling.deps import Deps
from monitor.polling.pipeline import SourceReport, record_failure, run_source
from monitor.service import reindex
from monitor.workers import WorkerPool
from storage import Store
from storage.records import SourceRecord

log = logging.getLogger("monitor.service.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


def source_records(sources: Iterable[SourceConfig]) -> list[SourceRecord]:
    # the database keeps the URL without its credentials; fetches use the configured one
    return [SourceRecord(id=s.id, name=s.name, kind=s.kind, url=redact_url(s.url),
                         language=s.language,
                         outlet=s.outlet, scope=s.scope, interval_seconds=s.interval,
                         enabled=s.enabled, affiliation=s.affiliation, country=s.country)
            for s in sources]


def open_store(settings: Settings, *, readonly: bool = False) -> Store:
    """The database; `readonly` for the commands that only read it (they never create it, never
    migrate it and never write a file next to it, so a user who may only read can run them)."""
    return Store.open(settings.database.path, busy_timeout=settings.database.busy_timeout,
                      readonly=readonly)


@asynccontextmanager
async def running(settings: Settings, *, clock: Callable[[], datetime] = utc_now,
                  store: Store | None = None, pool: WorkerPool | None = None,
                  fetcher: Fetcher | None = None) -> AsyncIterator[Deps]:
    """Open the store (migrating it), sync sources, start the client and the worker pool.
    A part passed in is used as it is and left open (its owner closes it): tests pass their
    own pool, fetcher or store without patching anything."""
    own_store, own_pool, own_fetcher = store is None, pool is None, fetcher is None
    store = store or open_store(settings)
    store.sync_sources(source_records(settings.sources), clock())
    reindex.finish_interrupted(settings, store, clock())  # a killed rebuild-index, finished
    fetcher = fetcher or Fetcher(settings.fetch)
    proxies = {p for p in [settings.fetch.proxy, *(s.proxy for s in settings.sources)] if p}
    proxied = {p: Fetcher(settings.fetch, proxy=p) for p in sorted(proxies)}
    pool = pool or WorkerPool(settings.extraction.workers, settings.extraction.recycle_after)
    try:
        await pool.start()
        yield Deps(settings=settings, store=store, fetcher=fetcher, pool=pool,
                   gate=Gate(settings.topics), clock=clock, rng=random.Random(),
                   robots=Robots(settings.fetch.user_agent.split("/")[0]), proxied=proxied)
    finally:
        if own_fetcher:
            await fetcher.aclose()
        for client in proxied.values():
            await client.aclose()
        if own_pool:
            await pool.close()
        if own_store:
            store.close()


async def poll_sources(deps: Deps, source_ids: Iterable[str]) -> list[SourceReport]:
    """Run the given sources, at most `polling.concurrency` at once.

    One failing source never stops the others."""
    limit = asyncio.Semaphore(deps.settings.polling.concurrency)

    async def one(source: SourceConfig) -> SourceReport:
        async with limit:
            started = time.monotonic()
            try:
                return await run_source(deps, source)
            except Exception as exc:  # a bug must cost one source run, not the daemon
                log.exception("source=%s outcome=error error=internal", source.id)
                return record_failure(deps, source, exc, started)

    sources = [s for sid in source_ids if (s := deps.settings.source(sid)) is not None]
    return list(await asyncio.gather(*(one(s) for s in sources)))


def maintain(deps: Deps) -> dict[str, int]:
    """Stories older than the dedup window leave the band index; raw HTML and fetch-log rows
    past their retention are deleted; a passive WAL checkpoint. Returns what was done."""
    now = deps.clock()
    db = deps.settings.database
    done = {
        "stories_unindexed": deps.store.prune_index(
            now, timedelta(seconds=deps.settings.dedup.window), deps.matcher),
        "raw_pages_deleted": deps.store.prune_raw_pages(
            now - timedelta(seconds=db.raw_html_retention)),
        "fetches_deleted": deps.store.prune_fetches(
            now - timedelta(seconds=db.fetch_log_retention)),
    }
    done["wal_frames_checkpointed"] = deps.store.checkpoint()[2]
    return done


@asynccontextmanager
async def alerting(settings: Settings, store: Store, clock: Callable[[], datetime] = utc_now,
                   console_out: IO[str] | None = None) -> AsyncIterator[Dispatcher]:
    """The alert dispatcher with its channels; rows a crash left `sending` are recovered."""
    recovered = store.recover_alerts()
    if recovered:
        log.warning("%d alerts were being sent when the last run stopped; sending them again",
                    recovered)
    async with httpx.AsyncClient(timeout=settings.alerts.timeout,
                                 headers={"User-Agent": settings.fetch.user_agent}) as client:
        yield Dispatcher(settings.alerts, store, channels.build(settings.alerts, client,
                                                                 console_out), clock)

