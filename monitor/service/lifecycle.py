"""The daemon's life: one instance per database, systemd notifications, health transitions.

* `InstanceLock`: an exclusive `flock` on ``<resolved database path>.lock``; a second daemon on
  the same file (also through a symlink) refuses to start with a clear message; a lock file
  that cannot be created (read-only filesystem) is a clear error too. `once` takes the same
  lock, so it never races a running daemon. The kernel drops the lock when the process dies.
* `notify`: a few lines of the sd_notify protocol over ``$NOTIFY_SOCKET`` (READY=1 after the
  migrations, WATCHDOG=1 while ticks run and the database takes writes, STOPPING=1).
* `check_health`: compares every source's health with what the operator was last told and
  queues one operator alert per change (failing, silent, recovered).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import IO

from monitor.configuration.settings import Settings
from monitor.errors import MonitorError
from storage import Store

log = logging.getLogger("monitor.service.lifecycle")


class InstanceLock:
    def __init__(self, database: Path, refusing: str = "refusing to start") -> None:
        self.refusing = refusing
        # the resolved path: a symlink or a second spelling of the same file is one database
        self.path = Path(f"{Path(database).resolve()}.lock")
        self._file: IO[str] | None = None

    def __enter__(self) -> InstanceLock:
        try:
            handle = open(self.path, "a+", encoding="utf-8")
        except OSError as exc:  # a read-only filesystem or directory: say so, no traceback
            raise MonitorError(f"cannot create the instance lock {self.path}: "
                               f"{exc.strerror or exc}; the database's directory must be "
                               f"writable by the daemon") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise MonitorError(f"another monitor daemon (pid {holder}) is running on "
                               f"{self.path.with_suffix('')}; {self.refusing}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def notify(message: str) -> bool:
    """Send one sd_notify message; False when not run by systemd (no NOTIFY_SOCKET)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError as exc:
        log.warning("sd_notify failed: %s", exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of systemd's WatchdogSec, in seconds, when the watchdog is on for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


def check_health(settings: Settings, store: Store, now: datetime,
                 channels: list[str]) -> list[tuple[str, str, str]]:
    """Queue an operator alert for each source whose health changed; returns the changes."""
    h = settings.health
    changes = []
    wanted = [c for c in channels if not h.operator_channels or c in h.operator_channels]
    for s in store.source_health(now, h.failing_after, h.silent_factor, h.min_history):
        state = "ok" if s.state == "new" or not s.enabled else s.state
        if state == s.told:
            continue
        if state == "failing":
            text = f"Source {s.id} is failing: {s.error_count} errors in a row ({s.last_error})"
        elif state == "silent":
            text = f"Source {s.id} has been silent since {s.last_new_item_at}"
        else:
            text = f"Source {s.id} has recovered"
        store.queue_operator_alert(wanted, text, f"{s.id}:{state}:{now:%Y%m%dT%H%M%S}", now)
        store.mark_health_told(s.id, state, now)
        changes.append((s.id, s.told, state))
        log.warning("source=%s health=%s was=%s", s.id, state, s.told)
    return changes
