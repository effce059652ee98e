"""Metrics for operators: an opt-in Prometheus endpoint of `monitor run` (`metrics.enabled`).

Counters and the worker-task histogram are updated as runs and tasks finish. The alert queue
and the sources' health are read from the database at each scrape, on the daemon's own event
loop (the endpoint's thread asks the loop and waits; it never touches the Store itself). Each
daemon has its own registry, not prometheus-client's global one, so two daemons in one process
(the tests) never share a number. The endpoint listens on loopback unless `metrics.host` says
otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.configuration.settings import MetricsSettings
from monitor.errors import ConfigError
from monitor.polling.deps import Deps
from monitor.polling.pipeline import SourceReport
from storage import StorageError

log = logging.getLogger("monitor.service.metrics")
SCRAPE_WAIT = 10.0  # longest wait of a scrape for the daemon's loop to read the database
OUTCOMES = ("new", "no_new", "not_modified", "unchanged", "error")
ALERT_STATES = ("pending", "sending", "sent", "failed")
HEALTH_STATES = ("ok", "failing", "silent", "new")
# a worker task takes milliseconds (a feed) to the extraction timeout (a hostile page)
TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)


@dataclass
class Snapshot:
    """What the database says now: the outbox by state, the oldest waiting alert, health."""

    alerts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALERT_STATES, 0))
    oldest_pending_s: float = 0.0
    sources: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HEALTH_STATES, 0))


def read_snapshot(deps: Deps) -> Snapshot:
    store, h, now = deps.store, deps.settings.health, deps.clock()
    snap = Snapshot()
    snap.alerts.update(store.alert_counts())
    oldest = store.oldest_pending_alert()
    if oldest:
        snap.oldest_pending_s = max((now - datetime.fromisoformat(oldest)).total_seconds(), 0.0)
    for source in store.source_health(now, h.failing_after, h.silent_factor, h.min_history):
        if source.enabled:
            snap.sources[source.state] = snap.sources.get(source.state, 0) + 1
    return snap


class StoreCollector(Collector):
    """The gauges read from the database, asked of the daemon's loop at each scrape."""

    def __init__(self, deps: Deps, loop: asyncio.AbstractEventLoop) -> None:
        self.deps, self.loop = deps, loop
        self.last = Snapshot()

    def describe(self) -> Iterator[Metric]:  # names only: never read the database here
        return self._families(Snapshot())

    def collect(self) -> Iterator[Metric]:
        async def read() -> Snapshot:
            return read_snapshot(self.deps)

        try:
            self.last = asyncio.run_coroutine_threadsafe(read(), self.loop).result(SCRAPE_WAIT)
        except (StorageError, TimeoutError, RuntimeError) as exc:
            log.warning("metrics: the database was not read, the last values are served: %s",
                        exc or type(exc).__name__)
        return self._families(self.last)

    @staticmethod
    def _families(snap: Snapshot) -> Iterator[Metric]:
        alerts = GaugeMetricFamily("feed_monitor_alerts", "Alerts in the outbox, by state",
                                   labels=["state"])
        for state, n in sorted(snap.alerts.items()):
            alerts.add_metric([state], n)
        yield alerts
        yield GaugeMetricFamily("feed_monitor_oldest_pending_alert_age_seconds",
                                "Age of the oldest alert waiting to be sent (0 when none waits)",
                                value=snap.oldest_pending_s)
        sources = GaugeMetricFamily("feed_monitor_sources", "Enabled sources, by health state",
                                    labels=["state"])
        for state, n in sorted(snap.sources.items()):
            sources.add_metric([state], n)
        yield sources


class Metrics:
    """Every metric of the daemon, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("feed_monitor_polls", "Source runs, by outcome",
                             ["outcome"], registry=r)
        self.articles = Counter("feed_monitor_articles_fetched",
                                "Article pages fetched by source runs", registry=r)
        self.new_items = Counter("feed_monitor_new_items", "New items stored", registry=r)
        self.task_seconds = Histogram(
            "feed_monitor_extraction_seconds",
            "Time of one worker task from the moment a worker took it, by task (article: "
            "extraction and analysis of one page; parse_*: one feed or listing page)",
            ["task"], buckets=TASK_BUCKETS, registry=r)
        for outcome in OUTCOMES:
            self.polls.labels(outcome)

    def record(self, reports: Iterable[SourceReport]) -> None:
        """What finished source runs did."""
        for report in reports:
            self.polls.labels(report.outcome).inc()
            self.articles.inc(report.articles_fetched)
            self.new_items.inc(report.new)

    def observe_task(self, task: str, seconds: float) -> None:
        self.task_seconds.labels(task).observe(seconds)


@contextlib.asynccontextmanager
async def exposed(settings: MetricsSettings, deps: Deps) -> AsyncIterator[Metrics | None]:
    """The metrics and their endpoint while the daemon runs; None when metrics are off."""
    if not settings.enabled:
        yield None
        return
    metrics = Metrics()
    metrics.registry.register(StoreCollector(deps, asyncio.get_running_loop()))
    server, thread = _listen(settings, metrics)
    pool = deps.pool
    pool.observers.append(metrics.observe_task)
    log.info("metrics on http://%s:%d/metrics", settings.host, settings.port)
    try:
        yield metrics
    finally:
        pool.observers.remove(metrics.observe_task)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5.0)


def _listen(settings: MetricsSettings, metrics: Metrics) -> tuple[WSGIServer, threading.Thread]:
    try:
        return start_http_server(settings.port, addr=settings.host, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError([f"metrics: cannot listen on {settings.host}:{settings.port}: "
                           f"{exc.strerror or exc}"]) from None
