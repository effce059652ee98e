"""The crash loop's kills of the long commands (issue 16): `rebuild-index`, `reextract` and
`backup` SIGKILLed at random moments, and what a killed backup may leave behind."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def kill_tools(base: list[str], folder: Path, rng: Any, rounds: int) -> dict[str, int]:
    """SIGKILL `rebuild-index`, `reextract` and `backup` at random moments, `rounds` times
    each, aiming at the work itself: a rebuild once its `index_rebuild` row exists, a backup
    once its `.partial` file does; returns how many kills landed while the command still ran."""
    import signal
    import subprocess

    from tests.conftest import REPO

    landed = {"rebuild-index": 0, "reextract": 0, "backup": 0}
    target = folder / "backup.db"
    started: dict[str, Callable[[], bool]] = {
        "rebuild-index": lambda: _rebuilding(folder / "feed-monitor.db"),
        "reextract": lambda: False,
        "backup": lambda: target.with_name(target.name + ".partial").exists()}
    for _ in range(rounds):
        for tool, extra in (("rebuild-index", []), ("reextract", []), ("backup", [str(target)])):
            proc = subprocess.Popen([*base, tool, *extra], cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + rng.uniform(0.6, 2.5)
            while time.monotonic() < deadline and proc.poll() is None and not started[tool]():
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            landed[tool] += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    return {f"killed_{tool.replace('-', '_')}": n for tool, n in landed.items()}


def _rebuilding(db: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return bool(conn.execute("SELECT count(*) FROM index_rebuild").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def backup_state(path: Path) -> str:
    """A backup a kill interrupted must not exist, or be sound."""
    if not path.exists():
        return "none"
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return f"damaged: {exc}"
    finally:
        conn.close()
