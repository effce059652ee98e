"""Dates: Solar Hijri (Jalali) conversion, Persian date strings, plausibility — pure functions.

Iranian outlets often publish dates such as "۲۵ دی ۱۴۰۴ - ۱۴:۳۰" or "1404/10/25". They are
converted to timezone-aware UTC, assuming Iran Standard Time (+03:30, no daylight saving since
2022) when no offset is given. Leap years follow the arithmetic 33-year rule
``(25 * year + 11) mod 33 < 8``, which agrees with the astronomical calendar for 1178-1634 SH;
day counts are taken from the anchor 1 Farvardin 1404 = 21 March 2025.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from monitor.matching.text import normalize

IRAN_TZ = timezone(timedelta(hours=3, minutes=30))
_ANCHOR_YEAR = 1404
_ANCHOR_DATE = date(2025, 3, 21)
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)

PERSIAN_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                  "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
_MONTH_INDEX = {normalize(name, zwnj="drop"): i + 1 for i, name in enumerate(PERSIAN_MONTHS)}
_NUMERIC = re.compile(
    r"(?<!\d)(1[34]\d\d)[/\-.](\d{1,2})[/\-.](\d{1,2})(?!\d)"
    r"(?:\D{1,12}?(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_NAMED = re.compile(
    r"(?<!\d)(\d{1,2})\s+(" + "|".join(sorted(_MONTH_INDEX, key=len, reverse=True)) +
    r")\s+(1[34]\d\d)(?!\d)(?:\D{1,12}?(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def is_jalali_leap(year: int) -> bool:
    return (25 * year + 11) % 33 < 8


def _year_length(year: int) -> int:
    return 366 if is_jalali_leap(year) else 365


def _month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_jalali_leap(year) else 29


def jalali_to_gregorian(year: int, month: int, day: int) -> date:
    """Convert a Solar Hijri date to a Gregorian date. Raises ValueError when invalid."""
    if not 1 <= month <= 12 or not 1 <= day <= _month_length(year, month):
        raise ValueError(f"no such Solar Hijri date {year}/{month}/{day}")
    offset = sum(_year_length(y) for y in range(_ANCHOR_YEAR, year)) if year >= _ANCHOR_YEAR \
        else -sum(_year_length(y) for y in range(year, _ANCHOR_YEAR))
    offset += sum(_month_length(year, m) for m in range(1, month)) + day - 1
    return _ANCHOR_DATE + timedelta(days=offset)


@dataclass(frozen=True)
class DateResult:
    value: datetime | None
    note: str | None = None


def parse_persian_date(raw: str) -> datetime | None:
    """A Solar Hijri date (numeric or with a Persian month name) in ``raw``, as UTC, or None."""
    text = normalize(raw, zwnj="drop")
    m = _NUMERIC.search(text)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _NAMED.search(text)
        if not m:
            return None
        year, month, day = int(m.group(3)), _MONTH_INDEX[m.group(2)], int(m.group(1))
    try:
        day_value = jalali_to_gregorian(year, month, day)
        hour, minute, second = (int(m.group(i) or 0) for i in (4, 5, 6))
        local = datetime(day_value.year, day_value.month, day_value.day, hour, minute, second,
                         tzinfo=IRAN_TZ)
    except ValueError:
        return None
    return local.astimezone(UTC)


def plausible(moment: datetime | None, now: datetime) -> DateResult:
    """Keep dates between 1995 and one day ahead of `now`; others are dropped with a note."""
    if moment is None:
        return DateResult(None)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment < EARLIEST_PLAUSIBLE:
        return DateResult(None, f"discarded implausible date {moment:%Y-%m-%d} (before 1995)")
    if moment > now + timedelta(days=1):
        return DateResult(None, f"discarded implausible date {moment:%Y-%m-%d} (in the future)")
    return DateResult(moment)


def parse_any_date(raw: str | None) -> datetime | None:
    """ISO-8601 or RFC 822 dates, then Solar Hijri forms; None when nothing parses."""
    if not raw or not raw.strip():
        return None
    raw = raw.strip()
    persian = parse_persian_date(raw)  # years 13xx/14xx only, so never a Gregorian date
    if persian is not None:
        return persian
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        parsed = parsedate_to_datetime(raw)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        pass
    return None


def gregorian_to_jalali(day: date) -> tuple[int, int, int]:
    """Inverse of `jalali_to_gregorian`: (year, month, day) in the Solar Hijri calendar."""
    offset = (day - _ANCHOR_DATE).days
    year = _ANCHOR_YEAR
    while offset < 0:
        year -= 1
        offset += _year_length(year)
    while offset >= _year_length(year):
        offset -= _year_length(year)
        year += 1
    month = 1
    while offset >= _month_length(year, month):
        offset -= _month_length(year, month)
        month += 1
    return year, month, offset + 1
