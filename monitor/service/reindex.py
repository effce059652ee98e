"""Finishing an interrupted `rebuild-index`: the daemon and `once` do it before polling.

A rebuild killed midway leaves the band index partial (new wire copies would then miss their
story and become new stories, with a duplicate alert). `storage.rebuild` keeps its progress in
the `index_rebuild` row; `finish_interrupted` carries on from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from monitor.configuration.settings import Settings
from monitor.matching import dedup
from monitor.polling.content import fingerprint_for
from storage import Store
from storage.rebuild import RebuildReport
from storage.records import Fingerprint

log = logging.getLogger("monitor.service.reindex")


def rebuild(settings: Settings, store: Store, now: datetime,
            step: Callable[[int], None] | None = None) -> RebuildReport:
    """Rebuild (or resume rebuilding) every signature and the band index."""
    def fingerprint(outlet: str, text: str) -> Fingerprint:
        return fingerprint_for(store, settings, outlet, text)

    return store.rebuild_index(fingerprint, dedup.Matcher(), now,
                               timedelta(seconds=settings.dedup.window), step=step)


def finish_interrupted(settings: Settings, store: Store, now: datetime) -> RebuildReport | None:
    pending = store.rebuild_pending()
    if pending is None:
        return None
    log.warning("an index rebuild started at %s was interrupted after %d items; finishing it "
                "before polling", pending.started_at, pending.items_done)
    report = rebuild(settings, store, now)
    log.warning("index rebuild finished: %d more items fingerprinted, %d stories indexed",
                report.items, report.indexed_stories)
    return report
