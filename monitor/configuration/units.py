"""Parsers for human-friendly durations and sizes used in the configuration — pure functions."""

from __future__ import annotations

import re

_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3,
}


def parse_duration(value: object) -> float:
    """'500ms', '30s', '15m', '2h', '14d' or a number of seconds -> seconds (float)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30s' or '15m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value)):
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    else:
        raise ValueError(f"expected a duration such as '30s' or '15m', got {value!r}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_size(value: object) -> int:
    """'8MiB', '512KiB', '1MB' or a number of bytes -> bytes (int)."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as '8MiB'")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (m := _SIZE.fullmatch(value)):
        size = int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
    else:
        raise ValueError(f"expected a size such as '8MiB' or '512KiB', got {value!r}")
    if size < 0:
        raise ValueError("a size cannot be negative")
    return size


def format_duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"
