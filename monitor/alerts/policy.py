"""The monitor's alerting decisions inside a source run's write transaction (the storage layer
asks, through its `PollPolicy` protocol, and writes what it is told): a muted story queues
nothing; a story carried by more outlets rolls up once per `alerts.rollups` threshold it has
reached; an item whose story alerted is first revisited after the first `alerts.revisits`
offset; a new story linked to an earlier one that alerted (same event, other language) does
not alert anew on those channels, it rolls up into the earlier alert where roll-ups are on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.records import AlertRequest, Placement


@dataclass(frozen=True)
class AlertPolicy:
    rollup_thresholds: tuple[int, ...] = ()
    revisit_offsets: tuple[float, ...] = ()

    def story_alerts(self, placed: Placement,
                     wanted: tuple[AlertRequest, ...]) -> tuple[AlertRequest, ...]:
        if placed.muted:
            return ()
        return tuple(r for r in wanted if r.channel not in placed.related_channels)

    def rollups(self, placed: Placement) -> tuple[int, ...]:
        if placed.muted:
            return ()
        return tuple(n for n in self.rollup_thresholds if placed.outlet_count >= n)

    def related_rollup(self, placed: Placement) -> bool:
        return bool(self.rollup_thresholds) and not placed.muted

    def first_revisit(self, placed: Placement, now: datetime) -> datetime | None:
        if not self.revisit_offsets:
            return None
        return now + timedelta(seconds=self.revisit_offsets[0])
