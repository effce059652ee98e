"""Scheduling: intervals, feed hints, adaptation to publishing frequency, back-off."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from monitor.polling import schedule

NOW = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


def delay(**kw: object) -> float:
    args: dict[str, object] = {"min_interval": 120, "max_interval": 6 * 3600, "jitter": 0,
                               "rng": random.Random(1)}
    args.update(kw)
    interval = float(args.pop("interval", 900))  # type: ignore[arg-type]
    return (schedule.next_check(NOW, interval, **args) - NOW).total_seconds()  # type: ignore[arg-type]


def test_interval_and_feed_hints() -> None:
    assert delay() == 900
    assert delay(ttl_minutes=60) == 3600  # the feed asks for an hour
    assert delay(cache_control="public, max-age=1800") == 1800
    assert delay(cache_control="no-store, max-age=1800") == 900
    assert delay(ttl_minutes=60 * 24) == 6 * 3600  # clamped to max_interval


def test_adapts_to_publishing_frequency_within_bounds() -> None:
    assert delay(publish_gap=12 * 3600) == 3600  # a quiet feed: up to 4x its interval
    assert delay(publish_gap=60) == 450  # a busy feed: down to half its interval
    assert delay(publish_gap=60, interval=100) == 120  # never below min_interval


def test_jitter_spreads_forward_only() -> None:
    values = {delay(jitter=0.1, rng=random.Random(seed)) for seed in range(20)}
    assert min(values) >= 900 and max(values) <= 990 and len(values) > 1


def test_backoff_doubles_to_a_cap_and_honours_retry_after() -> None:
    def b(errors: int, retry_after: float | None = None) -> float:
        return (schedule.backoff(NOW, errors, base=60, cap=6 * 3600, jitter=0,
                                 rng=random.Random(1), retry_after=retry_after)
                - NOW).total_seconds()
    assert [b(n) for n in range(4)] == [60, 120, 240, 480]
    assert b(30) == 6 * 3600
    assert b(0, retry_after=900) == 900


def test_smoothed_gap() -> None:
    from datetime import timedelta
    assert schedule.smoothed_gap(None, NOW - timedelta(hours=2), NOW, 2) == 3600
    assert schedule.smoothed_gap(3600, NOW - timedelta(hours=1), NOW, 1) == 3600
    assert schedule.smoothed_gap(3600, None, NOW, 1) == 3600
