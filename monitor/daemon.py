"""`monitor run`: APScheduler 3.11 as the clock, SQLite as the state, a drain on shutdown.

The scheduler only ticks; which sources are due lives in the database (`sources.next_check_at`),
so a restart loses and repeats nothing. Each tick starts the due sources that are not already in
flight, up to `polling.concurrency`. SIGTERM/SIGINT stop the ticks, let in-flight runs finish
(each writes in one transaction, so an unfinished one leaves nothing half-written), then exit 0.

Scheduler settings are chosen on purpose: ``coalesce=True`` and ``max_instances=1`` (a slow tick
never stacks), and a generous ``misfire_grace_time`` (the 1 s default silently skips runs after
a stall).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app import alerting, maintain, poll_sources, running
from monitor.dispatch import Dispatcher
from monitor.pipeline import Deps, SourceReport
from monitor.settings import Settings
from storage import StorageError

log = logging.getLogger("monitor.daemon")
DRAIN_SECONDS = 30.0


class Daemon:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.in_flight: dict[str, asyncio.Task[list[SourceReport]]] = {}
        self.stopping = False
        self.alerts_waiting = asyncio.Event()  # a run queued alerts: dispatch now, not later

    async def tick(self) -> None:
        if self.stopping:
            return
        room = self.deps.settings.polling.concurrency - len(self.in_flight)
        if room <= 0:
            return
        due = [s for s in self.deps.store.due_sources(self.deps.clock(), limit=room * 2)
               if s not in self.in_flight][:room]
        for source_id in due:
            task = asyncio.create_task(poll_sources(self.deps, [source_id]))
            self.in_flight[source_id] = task
            task.add_done_callback(self._forget(source_id))

    def _forget(self, source_id: str) -> Callable[[asyncio.Task[list[SourceReport]]], None]:
        def done(task: asyncio.Task[list[SourceReport]]) -> None:
            self.in_flight.pop(source_id, None)
            if not task.cancelled() and task.exception() is None and any(
                    r.alerts for r in task.result()):
                self.alerts_waiting.set()
        return done

    async def dispatch_loop(self, dispatcher: Dispatcher, every: float) -> None:
        """Send due alerts every `every` seconds, and at once after a run queued some."""
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.alerts_waiting.wait(), every)
            self.alerts_waiting.clear()
            if self.stopping:
                return
            try:
                await dispatcher.run_once()
            except StorageError as exc:  # a locked database: the rows wait for the next pass
                log.warning("alert dispatch postponed: %s", exc)

    async def maintain(self) -> None:
        """Hourly upkeep: old stories leave the dedup index; old raw HTML is deleted."""
        if self.stopping:
            return
        try:
            pruned, raw = maintain(self.deps)
        except StorageError as exc:
            log.warning("maintenance failed: %s", exc)
            return
        log.info("maintenance: %d stories left the dedup window, %d raw pages deleted",
                 pruned, raw)

    async def drain(self, deadline: float = DRAIN_SECONDS) -> None:
        self.stopping = True
        tasks = list(self.in_flight.values())
        if not tasks:
            return
        log.info("draining %d in-flight source runs", len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()  # its transaction never began or is rolled back
        if pending:
            await asyncio.wait(pending, timeout=5.0)


async def run_daemon(settings: Settings, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(settings) as deps, alerting(settings, deps.store, deps.clock) as dispatcher:
        daemon = Daemon(deps)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(daemon.tick, "interval", seconds=settings.polling.tick,
                          next_run_time=datetime.now(UTC), id="tick", coalesce=True,
                          max_instances=1,
                          misfire_grace_time=max(60, int(settings.polling.tick * 10)))
        alerts = asyncio.create_task(daemon.dispatch_loop(dispatcher,
                                                          settings.alerts.dispatch_every))
        scheduler.add_job(daemon.maintain, "interval", hours=1, id="maintenance",
                          next_run_time=datetime.now(UTC), coalesce=True, max_instances=1,
                          misfire_grace_time=3600)
        scheduler.start()
        log.info("daemon started: %d sources, tick %ss", len(settings.sources),
                 settings.polling.tick)
        await stop.wait()
        log.info("stopping: no new source runs")
        scheduler.pause()
        await daemon.drain()
        daemon.alerts_waiting.set()
        await asyncio.wait([alerts], timeout=settings.alerts.timeout + 5)
        scheduler.shutdown(wait=False)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
    log.info("daemon stopped")
    return 0
