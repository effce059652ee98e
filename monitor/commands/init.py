"""`monitor init DIR`: write a starting configuration (the shipped defaults) into a folder.

The defaults travel inside the package (`monitor/defaults/`, the repository's `config/` and the
systemd unit), so an installed wheel can write them; `monitor init --unit` prints the unit.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFAULTS = Path(__file__).resolve().parents[1] / "defaults"
FILES = ("monitor.toml", "sources.toml", "topics.toml")
UNIT = "feed-monitor.service"


def default_file(name: str) -> Path:
    return DEFAULTS / name


def init(folder: Path, *, database: str | None, force: bool) -> int:
    """Write monitor.toml, sources.toml and topics.toml into `folder`; never overwrite unless
    `force`. `database` sets `database.path` (e.g. /var/lib/feed-monitor/feed-monitor.db)."""
    existing = [folder / f for f in FILES if (folder / f).exists()]
    if existing and not force:
        print(f"monitor init: {', '.join(map(str, existing))} already there; nothing written "
              f"(--force overwrites)", file=sys.stderr)
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        text = default_file(name).read_text(encoding="utf-8")
        if name == "monitor.toml" and database:
            text = set_database(text, database)
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    print(f"\nNext: edit {folder / 'monitor.toml'} (alert channels and rules, credentials), then "
          f"`monitor --config {folder / 'monitor.toml'} check-config`.")
    return 0


def set_database(text: str, database: str) -> str:
    quoted = database.replace("\\", "\\\\").replace('"', '\\"')
    new, count = re.subn(r'(?m)^path = "[^"]*"', f'path = "{quoted}"', text, count=1)
    if count != 1:
        raise ValueError("the default monitor.toml has no database path line")
    return new


def print_unit() -> int:
    sys.stdout.write(default_file(UNIT).read_text(encoding="utf-8"))
    return 0
