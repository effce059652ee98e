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
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.alerts.dispatch import Dispatcher
from monitor.configuration.settings import Settings, load_settings
from monitor.errors import ConfigError
from monitor.polling.deps import Deps
from monitor.polling.pipeline import SourceReport
from monitor.service.app import alerting, maintain, poll_sources, running, source_records
from monitor.service.lifecycle import InstanceLock, check_health, notify, watchdog_interval
from monitor.service.metrics import Metrics, exposed
from monitor.service.revisit import revisit_due
from storage import StorageError

log = logging.getLogger("monitor.service.daemon")
DRAIN_SECONDS = 30.0


class Daemon:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.in_flight: dict[str, asyncio.Task[list[SourceReport]]] = {}
        self.stopping = False
        self.alerts_waiting = asyncio.Event()  # a run queued alerts: dispatch now, not later
        self.last_beat = datetime.min.replace(tzinfo=UTC)
        self.watchdog = watchdog_interval()
        self.metrics: Metrics | None = None  # metrics.enabled

    async def tick(self) -> None:
        if self.stopping:
            return
        self._beat()
        room = self.deps.settings.polling.concurrency - len(self.in_flight)
        if room <= 0:
            return
        p = self.deps.settings.polling
        horizon = timedelta(seconds=2 * max(p.max_interval, p.error_backoff_cap))
        due = [s for s in self.deps.store.due_sources(self.deps.clock(), limit=room * 2,
                                                      horizon=horizon)
               if s not in self.in_flight][:room]
        for source_id in due:
            task = asyncio.create_task(poll_sources(self.deps, [source_id]))
            self.in_flight[source_id] = task
            task.add_done_callback(self._forget(source_id))

    def _forget(self, source_id: str) -> Callable[[asyncio.Task[list[SourceReport]]], None]:
        def done(task: asyncio.Task[list[SourceReport]]) -> None:
            self.in_flight.pop(source_id, None)
            if task.cancelled() or task.exception() is not None:
                return
            if self.metrics is not None:
                self.metrics.record(task.result())
            if any(r.alerts for r in task.result()):
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
            except Exception:  # the dispatcher never dies: the rows wait for the next pass
                log.exception("alert dispatch pass failed; trying again at the next pass")

    async def maintain(self) -> None:
        """Hourly upkeep: dedup window, raw HTML and fetch-log retention, a WAL checkpoint."""
        if self.stopping:
            return
        try:
            done = maintain(self.deps)
        except StorageError as exc:
            log.warning("maintenance failed: %s", exc)
            return
        log.info("maintenance: %s", " ".join(f"{k}={v}" for k, v in done.items()))

    async def check(self) -> None:
        """Every minute: source health changes become operator alerts."""
        if self.stopping:
            return
        try:
            changes = check_health(self.deps.settings, self.deps.store, self.deps.clock(),
                                   self.deps.settings.alerts.enabled_channels())
        except StorageError as exc:
            log.warning("health check postponed: %s", exc)
            return
        if changes:
            self.alerts_waiting.set()

    async def revisit(self) -> None:
        """Every minute: fetch alerted articles whose revisit is due."""
        if not self.stopping:
            await revisit_due(self.deps, self.deps.settings.alerts.revisits)

    async def watch_reload(self, reload: asyncio.Event, dispatcher: Dispatcher) -> None:
        """SIGHUP: read the configuration again; a bad file is reported and the old one kept."""
        while not self.stopping:
            await reload.wait()
            reload.clear()
            if self.stopping:
                return
            try:
                fresh = load_settings(self.deps.settings.config_path)
            except ConfigError as exc:
                for problem in exc.problems:
                    log.error("reload refused, keeping the running configuration: %s", problem)
                continue
            self.deps = self.deps.with_settings(fresh)
            self.deps.store.sync_sources(source_records(fresh.sources), self.deps.clock())
            dispatcher.settings = fresh.alerts
            log.warning("configuration reloaded: %d sources, topics %s (fetch, extraction "
                        "and channel settings take effect at the next restart)",
                        len(fresh.sources), ", ".join(fresh.topics.names()))

    def _beat(self) -> None:
        """Heartbeat for `monitor status`, and the systemd watchdog while the database writes."""
        now = self.deps.clock()
        if (now - self.last_beat).total_seconds() < 10:
            return
        try:
            self.deps.store.heartbeat(now)
        except StorageError as exc:
            log.warning("heartbeat not written: %s", exc)
            return
        self.last_beat = now
        if self.watchdog is not None:
            notify("WATCHDOG=1")

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
    reload = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, reload.set)
    try:
        with InstanceLock(settings.database.path):
            return await _serve(settings, stop, reload)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)


async def _serve(settings: Settings, stop: asyncio.Event, reload: asyncio.Event) -> int:
    async with (running(settings) as deps,
                alerting(settings, deps.store, deps.clock) as dispatcher,
                exposed(settings.metrics, deps) as metrics):
        daemon = Daemon(deps)
        daemon.metrics = metrics
        deps.store.heartbeat(deps.clock(), starting=True)
        notify("READY=1")
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(daemon.tick, "interval", seconds=settings.polling.tick,
                          next_run_time=datetime.now(UTC), id="tick", coalesce=True,
                          max_instances=1,
                          misfire_grace_time=max(60, int(settings.polling.tick * 10)))
        scheduler.add_job(daemon.check, "interval", seconds=60, id="health",
                          coalesce=True, max_instances=1, misfire_grace_time=300)
        scheduler.add_job(daemon.revisit, "interval", minutes=1, id="revisits",
                          coalesce=True, max_instances=1, misfire_grace_time=300)
        scheduler.add_job(daemon.maintain, "interval", hours=1, id="maintenance",
                          next_run_time=datetime.now(UTC), coalesce=True, max_instances=1,
                          misfire_grace_time=3600)
        background = [
            asyncio.create_task(daemon.dispatch_loop(dispatcher, settings.alerts.dispatch_every)),
            asyncio.create_task(daemon.watch_reload(reload, dispatcher)),
        ]
        scheduler.start()
        log.info("daemon started: %d sources, tick %ss", len(settings.sources),
                 settings.polling.tick)
        await stop.wait()
        notify("STOPPING=1")
        log.info("stopping: no new source runs")
        scheduler.pause()
        await daemon.drain()
        daemon.alerts_waiting.set()
        reload.set()
        await asyncio.wait(background, timeout=settings.alerts.timeout + 5)
        scheduler.shutdown(wait=False)
        with contextlib.suppress(StorageError):
            deps.store.daemon_stopped(deps.clock())
    log.info("daemon stopped")
    return 0
