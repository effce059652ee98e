"""The Store's alert-outbox methods (the SQL lives in storage.outbox)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

from storage import outbox
from storage.connection import Connected, translated
from storage.errors import NotFound
from storage.records import AlertRow


class AlertsAPI(Connected):
    def recover_alerts(self) -> int:
        """Rows a crash left `sending` go back to `pending` (the documented repeat window)."""
        return self._write(outbox.recover)

    def claim_alerts(self, channel: str, now: datetime, limit: int = 200) -> list[AlertRow]:
        ids = self._write(lambda c: outbox.claim(c, channel, now, limit))
        return self.alert_rows(ids) if ids else []

    @translated
    def alert_rows(self, ids: Sequence[int] | None = None, limit: int = 50,
                   states: tuple[str, ...] = ()) -> list[AlertRow]:
        return outbox.rows(self._conn, ids, limit if ids is None else len(ids), states)

    def alerts_sent(self, ids: Sequence[int], now: datetime, digest: bool) -> None:
        self._write(lambda c: outbox.mark_sent(c, ids, now, digest))

    def alerts_retry(self, ids: Sequence[int], error: str, next_at: datetime) -> None:
        self._write(lambda c: outbox.mark_retry(c, ids, error, next_at))

    def alerts_failed(self, ids: Sequence[int], error: str) -> None:
        self._write(lambda c: outbox.mark_failed(c, ids, error))

    def alerts_defer(self, ids: Sequence[int], until: datetime) -> None:
        self._write(lambda c: outbox.defer(c, ids, until))

    def alerts_sent_since(self, channel: str, since: datetime) -> int:
        return outbox.sent_since(self._conn, channel, since)

    def last_digest(self, channel: str) -> str | None:
        return outbox.last_digest(self._conn, channel)

    def mute_story(self, story_id: int) -> None:
        def mute(conn: sqlite3.Connection) -> None:
            if conn.execute("UPDATE stories SET muted = 1 WHERE id = ?",
                            (story_id,)).rowcount == 0:
                raise NotFound(f"no story {story_id}")
            conn.execute("UPDATE alerts SET state = 'failed', last_error = 'muted' "
                         "WHERE story_id = ? AND state = 'pending' AND kind != 'story'",
                         (story_id,))
        self._write(mute)

    def queue_operator_alert(self, channels: Sequence[str], headline: str, key: str,
                             now: datetime) -> int:
        """An alert about the service itself (a failing or silent source), once per key."""
        return self._write(lambda c: outbox.operator(c, channels, headline, key, now))

    def alert_counts(self) -> Mapping[str, int]:
        """How many alerts are in each state (states with none are left out)."""
        return {r[0]: r[1] for r in self._query(
            "SELECT state, count(*) FROM alerts GROUP BY state")}

    def oldest_pending_alert(self) -> str | None:
        """When the oldest alert still waiting to be sent was queued (ISO time), or None."""
        rows = self._query("SELECT min(created_at) FROM alerts "
                           "WHERE state IN ('pending', 'sending')")
        return str(rows[0][0]) if rows and rows[0][0] else None
