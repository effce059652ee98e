"""Operations on the file itself and on the sources' health: what `monitor status` shows.

A source is *failing* after `failing_after` consecutive errors and *silent* when it has said
nothing new for `silent_factor` times its usual gap between new items, or its poll interval if
that is longer (judged only once it has `min_history` items). The daemon writes a heartbeat
each tick; `status` calls a daemon whose heartbeat is older than a limit not running.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from storage.errors import StorageError
from storage.records import iso, parse_iso


@dataclass(frozen=True)
class SourceHealth:
    id: str
    outlet: str
    enabled: bool
    state: str  # ok | failing | silent | new
    error_count: int
    last_error: str | None
    last_success_at: str | None
    last_new_item_at: str | None
    items_24h: int
    usual_gap_s: float | None
    told: str  # what the operator was last told (sources.health)
    next_check_at: str | None = None


def sources(conn: sqlite3.Connection, now: datetime, failing_after: int, silent_factor: float,
            min_history: int) -> list[SourceHealth]:
    day_ago, month_ago = iso(now - timedelta(days=1)), iso(now - timedelta(days=30))
    rows = conn.execute(
        """
        SELECT s.*, (SELECT count(*) FROM items i WHERE i.source_id = s.id
                     AND i.first_seen_at >= :day) AS items_24h,
               (SELECT count(*) FROM items i WHERE i.source_id = s.id
                AND i.first_seen_at >= :month) AS items_30d,
               (SELECT min(first_seen_at) FROM items i WHERE i.source_id = s.id
                AND i.first_seen_at >= :month) AS oldest_30d
        FROM sources s ORDER BY s.id
        """, {"day": day_ago, "month": month_ago}).fetchall()
    out = []
    for r in rows:
        gap = None
        oldest, last_new = parse_iso(r["oldest_30d"]), parse_iso(r["last_new_item_at"])
        if r["items_30d"] >= min_history and oldest and last_new and last_new > oldest:
            gap = (last_new - oldest).total_seconds() / (r["items_30d"] - 1)
        state = "ok"
        if r["error_count"] >= failing_after:
            state = "failing"
        elif gap and last_new and (now - last_new).total_seconds() > silent_factor * max(
                gap, r["interval_seconds"] or 0.0):
            # never quicker than a few polls: a burst of items minutes apart (a first
            # back-fill, the demo) says nothing about how often the source publishes
            state = "silent"
        elif r["last_success_at"] is None:
            state = "new"
        out.append(SourceHealth(
            id=r["id"], outlet=r["outlet"], enabled=bool(r["enabled"]), state=state,
            error_count=r["error_count"], last_error=r["last_error"],
            last_success_at=r["last_success_at"], last_new_item_at=r["last_new_item_at"],
            items_24h=r["items_24h"], usual_gap_s=gap, told=r["health"],
            next_check_at=r["next_check_at"]))
    return out


def mark_told(conn: sqlite3.Connection, source_id: str, state: str, now: datetime) -> None:
    conn.execute("UPDATE sources SET health = ?, health_changed_at = ? WHERE id = ?",
                 (state, iso(now), source_id))


def heartbeat(conn: sqlite3.Connection, now: datetime, starting: bool = False) -> None:
    if starting:
        conn.execute("INSERT OR REPLACE INTO daemon (id, pid, host, started_at, heartbeat_at) "
                     "VALUES (1, ?, ?, ?, ?)", (os.getpid(), socket.gethostname(), iso(now),
                                                iso(now)))
    else:
        conn.execute("UPDATE daemon SET heartbeat_at = ?, stopped_at = NULL WHERE id = 1",
                     (iso(now),))


def stopped(conn: sqlite3.Connection, now: datetime) -> None:
    conn.execute("UPDATE daemon SET stopped_at = ? WHERE id = 1", (iso(now),))


@dataclass(frozen=True)
class DaemonState:
    """The daemon's row: who runs it, since when, its last heartbeat, whether it stopped."""

    pid: int
    host: str
    started_at: str
    heartbeat_at: str
    stopped_at: str | None


def daemon_state(conn: sqlite3.Connection) -> DaemonState | None:
    row = conn.execute("SELECT pid, host, started_at, heartbeat_at, stopped_at FROM daemon "
                       "WHERE id = 1").fetchone()
    return DaemonState(*row) if row is not None else None


def prune_fetches(conn: sqlite3.Connection, before: datetime) -> int:
    return conn.execute("DELETE FROM fetches WHERE started_at < ?", (iso(before),)).rowcount


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
               if p.exists())


def backup(conn: sqlite3.Connection, target: Path) -> None:
    """An online, consistent copy (SQLite's backup API) while the daemon keeps writing, verified
    with `PRAGMA integrity_check` before it replaces `target` (a kill midway leaves only the
    `.partial` file, never a half-written target)."""
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    dest = sqlite3.connect(tmp)
    try:
        conn.backup(dest, pages=1024)
        problems = [r[0] for r in dest.execute("PRAGMA integrity_check(5)")]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    finally:
        dest.close()
    if problems != ["ok"]:  # a corrupt source copies as a corrupt backup: refuse to keep it
        tmp.unlink(missing_ok=True)
        raise StorageError(f"backup refused: the copy fails SQLite's integrity check, so the "
                           f"database itself is damaged ({'; '.join(problems)[:200]}); no "
                           f"backup was written. Restore the last good backup, or try "
                           f"`sqlite3 <db> .recover`")
    tmp.replace(target)
