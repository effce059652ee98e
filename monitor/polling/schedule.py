"""When to poll a source next — a pure function of what we know about it.

    interval  = the source's configured interval (or polling.interval)
    adapted   = half the source's observed gap between new items, kept within
                [interval / 2, interval * 4]   (busy feeds a little faster, quiet ones slower)
    floor     = the largest of the feed's TTL, Cache-Control max-age, and polling.min_interval
    next      = now + clamp(max(adapted, floor), min_interval, max_interval) + jitter

After an error the delay doubles from polling.error_backoff_base up to error_backoff_cap, at
least the server's Retry-After; a source is never dropped, and its first success puts it back on
its normal interval.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

MAX_FLOOR = 7 * 86400  # seconds: a feed's TTL or max-age never pushes a poll further out
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.I)


def cache_max_age(cache_control: str | None) -> float | None:
    if not cache_control or "no-store" in cache_control.lower():
        return None
    m = _MAX_AGE.search(cache_control)
    if not m or not m.group(1).isascii():
        return None
    digits = m.group(1).lstrip("0") or "0"
    return MAX_FLOOR if len(digits) > 9 else min(float(digits), MAX_FLOOR)


def next_check(now: datetime, interval: float, *, min_interval: float, max_interval: float,
               jitter: float, rng: random.Random, publish_gap: float | None = None,
               ttl_minutes: int | None = None, cache_control: str | None = None) -> datetime:
    adapted = interval
    if publish_gap:
        adapted = min(max(publish_gap / 2, interval / 2), interval * 4)
    ttl = min(max(ttl_minutes or 0, 0), MAX_FLOOR // 60) * 60.0
    floor = max(min_interval, ttl, cache_max_age(cache_control) or 0.0)
    delay = min(max(adapted, floor), max(max_interval, min_interval))
    return now + timedelta(seconds=delay * (1 + jitter * rng.random()))


def backoff(now: datetime, errors: int, *, base: float, cap: float, jitter: float,
            rng: random.Random, retry_after: float | None = None) -> datetime:
    """`errors` is the count before this failure (0 for the first)."""
    delay = min(cap, base * (2 ** min(max(errors, 0), 20)))
    delay *= 1 + jitter * rng.random()
    if retry_after:
        delay = max(delay, min(retry_after, cap))
    return now + timedelta(seconds=delay)


def smoothed_gap(previous: float | None, last_new: datetime | None, now: datetime,
                 new_items: int) -> float | None:
    """Update the observed gap between new items (exponentially weighted)."""
    if last_new is None or new_items <= 0:
        return previous
    sample = max((now - last_new).total_seconds() / new_items, 1.0)
    return sample if previous is None else 0.7 * previous + 0.3 * sample
