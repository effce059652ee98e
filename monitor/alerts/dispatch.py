"""The alert dispatcher: sends due outbox rows through their channels, with retries.

One pass (`Dispatcher.run_once`), per enabled channel:

    claim the due rows           pending -> sending, committed before anything is sent
    flood guard                  immediate channels: past `flood_max` sends in `flood_window`,
                                 the first alert of a new story waits at most FIRST_ALERT_HOLD
                                 (one roll-up message a minute at most); roll-ups of stories
                                 that already alerted ("now carried by N") wait for one digest
                                 per window. Held rows stay `pending` in the outbox, so a stop
                                 (SIGTERM) loses none: the next start sends them.
    send                         one message per story, or one digest
    record                       sent | pending again with back-off (Retry-After honoured)
                                 | failed (permanent error, or `max_attempts` used up)

A crash between "send" and "record" leaves rows `sending`; `Store.recover_alerts()` at start-up
puts them back to pending, so they are sent again: the one documented repeat window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.alerts.channels import Channel
from monitor.configuration.settings import AlertSettings
from monitor.errors import ChannelError
from monitor.matching.text import one_line
from storage import Store
from storage.outbox import next_slot
from storage.records import AlertRow

log = logging.getLogger("monitor.alerts.dispatch")

FIRST_ALERT_HOLD = 60.0  # seconds: longest a new story's first alert waits during a flood


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    latencies: tuple[float, ...] = ()  # seconds from an alert's creation to its hand-over


class Dispatcher:
    def __init__(self, settings: AlertSettings, store: Store, channels: dict[str, Channel],
                 clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.channels = channels
        self.clock = clock

    async def run_once(self) -> DispatchReport:
        report = DispatchReport()
        for name, channel in self.channels.items():
            now = self.clock()
            rows = [self._linked(r) for r in self.store.claim_alerts(name, now)]
            if not rows:
                continue
            single, batch = self._flood_guard(name, [r for r in rows if not r.digest], now,
                                              report)
            batch += [r for r in rows if r.digest]
            for row in single:
                await self._send(channel, [row], False, report)
            if batch:
                reason = self._digest_reason(name)
                await self._send(channel, [replace(r, digest_reason=reason) for r in batch],
                                 True, report)
        return report

    def _linked(self, row: AlertRow) -> AlertRow:
        """The row with its story page in the web reader (web.base_url), when one is set."""
        base = self.settings.story_base_url
        if not base or not row.story_id or row.kind.startswith("operator:"):
            return row
        return replace(row, story_url=f"{base}/stories/{row.story_id}")

    def _digest_reason(self, name: str) -> str:
        policy = self.settings.channels[name]
        if policy.mode == "digest":
            return (f"This channel sends one digest every {_span(policy.digest_every)} "
                    f"(mode = \"digest\").")
        return (f"Sent as one message because more than {policy.flood_max} alerts came within "
                f"{_span(policy.flood_window)} on this channel (the flood guard): new stories "
                f"are grouped at most a minute late, later pick-ups once per "
                f"{_span(policy.flood_window)}.")

    def _flood_guard(self, name: str, rows: list[AlertRow], now: datetime,
                     report: DispatchReport) -> tuple[list[AlertRow], list[AlertRow]]:
        """(rows to send one by one, rows to send as a roll-up now); the rest are deferred."""
        policy = self.settings.channels[name]
        window = timedelta(seconds=policy.flood_window)
        room = policy.flood_max - self.store.alerts_sent_since(name, now - window)
        if len(rows) <= room:
            return rows, []
        single, rest = rows[:max(room, 0)], rows[max(room, 0):]
        later = [r for r in rest if r.kind.startswith("pickup:")]
        news = [r for r in rest if not r.kind.startswith("pickup:")]
        if later:  # a story that already alerted: its roll-up can wait for the window
            self.store.alerts_defer([r.id for r in later], now + window)
            report.deferred += len(later)
        hold = timedelta(seconds=min(FIRST_ALERT_HOLD, policy.flood_window))
        slot = next_slot(self.store.last_digest(name), hold, now)
        if news and slot > now:
            self.store.alerts_defer([r.id for r in news], slot)
            report.deferred += len(news)
            log.warning("channel=%s flood guard: %d new stories held until %s, %d roll-ups "
                        "until %s", name, len(news), slot.isoformat(), len(later),
                        (now + window).isoformat())
            return single, []
        return single, news

    async def _send(self, channel: Channel, rows: Sequence[AlertRow], digest: bool,
                    report: DispatchReport) -> None:
        ids = [r.id for r in rows]
        try:
            await asyncio.wait_for(channel.send(rows, digest), self.settings.timeout)
        except (ChannelError, TimeoutError, OSError) as exc:
            self._failed(channel.name, rows, exc, report)
            return
        except Exception as exc:  # any failure of one send is a failed attempt on this channel
            log.exception("channel=%s send failed unexpectedly", channel.name)
            self._failed(channel.name, rows, ChannelError(
                f"{channel.name}: {type(exc).__name__} (unexpected)"), report)
            return
        now = self.clock()
        self.store.alerts_sent(ids, now, digest)
        report.sent += len(rows)
        report.latencies += tuple(_age(r, now) for r in rows)
        log.info("channel=%s sent=%d digest=%s", channel.name, len(rows), digest)

    def _failed(self, name: str, rows: Sequence[AlertRow], exc: BaseException,
                report: DispatchReport) -> None:
        message = one_line(str(exc) or type(exc).__name__, 300)
        permanent = isinstance(exc, ChannelError) and exc.permanent
        retry_after = exc.retry_after if isinstance(exc, ChannelError) else None
        give_up = [r.id for r in rows if permanent or r.attempts >= self.settings.max_attempts]
        again = [r for r in rows if r.id not in give_up]
        if give_up:
            self.store.alerts_failed(give_up, message)
            report.failed += len(give_up)
            log.error("channel=%s failed=%d error=%r", name, len(give_up), message)
        if again:
            attempts = max(r.attempts for r in again)
            delay = min(self.settings.retry_cap, self.settings.retry_base * 2 ** (attempts - 1))
            if retry_after:
                delay = max(delay, min(retry_after, self.settings.retry_cap))
            self.store.alerts_retry([r.id for r in again], message,
                                    self.clock() + timedelta(seconds=delay))
            report.retried += len(again)
            log.warning("channel=%s retry=%d in=%.0fs error=%r", name, len(again), delay,
                        message)


def _age(row: AlertRow, now: datetime) -> float:
    from storage.records import parse_iso

    created = parse_iso(row.created_at)
    return (now - created).total_seconds() if created else 0.0


def _span(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
