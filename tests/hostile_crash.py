"""The crash loop's kills of the long commands (issue 16): `rebuild-index`, `reextract` and
`backup` SIGKILLed at random moments, and what a killed backup may leave behind."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any


def kill_tools(base: list[str], folder: Path, rng: Any, rounds: int) -> dict[str, int]:
    """SIGKILL `rebuild-index`, `reextract` and `backup` at random moments, `rounds` times
    each; returns how many kills landed while the command still ran."""
    import signal
    import subprocess

    from tests.conftest import REPO

    landed = {"rebuild-index": 0, "reextract": 0, "backup": 0}
    for _ in range(rounds):
        for tool, extra in (("rebuild-index", []), ("reextract", []),
                            ("backup", [str(folder / "backup.db")])):
            proc = subprocess.Popen([*base, tool, *extra], cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.6, 2.5))
            landed[tool] += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    return {f"killed_{tool.replace('-', '_')}": n for tool, n in landed.items()}


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
