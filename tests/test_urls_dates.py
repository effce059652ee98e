"""URL canonicalisation and date handling — pure functions."""

import unicodedata
from datetime import UTC, date, datetime

import pytest

from monitor.fetching import urlcheck
from monitor.fetching.urls import absolutize, canonical_url, is_http_url
from monitor.parsing.dates import (
    gregorian_to_jalali,
    jalali_to_gregorian,
    parse_any_date,
    parse_persian_date,
    plausible,
)


@pytest.mark.parametrize("url, expected", [
    ("HTTP://WWW.Example.COM:80/a?utm_source=x&b=2&a=1#frag", "https://example.com/a?a=1&b=2"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/story/amp/", "https://example.com/story"),
    ("https://example.com/story/amp?fbclid=1", "https://example.com/story"),
    ("https://example.com:8443/x?gclid=1&id=7", "https://example.com:8443/x?id=7"),
])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x/y",
                                 "data:text/html,hi", "gopher://x", "", None, "http://"])
def test_non_http_urls_are_refused(url: str | None) -> None:
    assert not is_http_url(url)


def test_absolutize_resolves_and_refuses_schemes() -> None:
    assert absolutize("/a/b", "https://x.org/feed") == "https://x.org/a/b"
    assert absolutize("javascript:void(0)", "https://x.org/") is None


def test_ascii_checks_agree_with_the_category_lookups() -> None:
    """The fast path for ASCII text (one regular expression) refuses exactly the characters the
    category lookups refuse, each of the 128 alone and inside a URL or a host name."""
    for code in range(128):
        c = chr(code)
        control = unicodedata.category(c) in ("Cc", "Cs")
        invisible = unicodedata.category(c) in urlcheck._BAD_CATEGORIES or c.isspace()
        assert urlcheck._has_control(c) is control
        assert urlcheck._has_control(f"https://x.org/a{c}b") is control
        assert urlcheck._has_invisible(c) is invisible
        assert urlcheck._has_invisible(f"a{c}b.org") is invisible
    assert urlcheck._has_control("https://x.org/\u0085") and \
        not urlcheck._has_control("https://x.org/\u200c")
    assert urlcheck._has_invisible("a\u200bb.org") and urlcheck._has_invisible("a\u3000b.org")


def test_url_problem_answers_alike_when_asked_again() -> None:
    for url in ("https://x.org/a", "https://x.org/\x00", "ftp://x/y", "https://a..b/",
                "https://" + "a" * 5000 + ".org/"):
        first = urlcheck.url_problem(url)
        assert urlcheck.url_problem(url) == first
        assert (first is None) == (url == "https://x.org/a")
    long = "https://X.org/" + "a" * 5000 + "?utm_source=1"
    for url in ("HTTP://WWW.X.org/a?utm_source=1", long):
        assert canonical_url(url) == canonical_url(url) == url.lower().replace(
            "http://www.", "https://").split("?")[0]
    for _ in range(2):
        with pytest.raises(ValueError):
            canonical_url("ftp://x.org/a")


def test_jalali_round_trip_and_known_dates() -> None:
    assert jalali_to_gregorian(1404, 10, 25) == date(2026, 1, 15)
    assert jalali_to_gregorian(1357, 11, 22) == date(1979, 2, 11)
    assert jalali_to_gregorian(1403, 12, 30) == date(2025, 3, 20)  # a leap year's last day
    with pytest.raises(ValueError):
        jalali_to_gregorian(1404, 12, 30)  # 1404 is not leap
    for day in (date(1999, 3, 21), date(2024, 2, 29), date(2030, 12, 31)):
        assert jalali_to_gregorian(*gregorian_to_jalali(day)) == day


@pytest.mark.parametrize("raw", ["۲۵ دی ۱۴۰۴ - ۱۴:۳۰", "1404/10/25 14:30", "۱۴۰۴-۱۰-۲۵ ۱۴:۳۰",
                                 "پنجشنبه ۲۵ دي ۱۴۰۴ ساعت ۱۴:۳۰"])
def test_persian_dates_convert_with_iran_offset(raw: str) -> None:
    assert parse_persian_date(raw) == datetime(2026, 1, 15, 11, 0, tzinfo=UTC)


def test_parse_any_date_handles_rfc822_iso_and_garbage() -> None:
    assert parse_any_date("Thu, 15 Jan 2026 10:00:00 GMT") == datetime(2026, 1, 15, 10,
                                                                       tzinfo=UTC)
    assert parse_any_date("2026-01-15T13:30:00+03:30") == datetime(2026, 1, 15, 10,
                                                                   tzinfo=UTC)
    assert parse_any_date("yesterday") is None
    assert parse_any_date("") is None


def test_implausible_dates_are_discarded_with_a_note() -> None:
    now = datetime(2026, 1, 20, tzinfo=UTC)
    assert plausible(datetime(1970, 1, 1, tzinfo=UTC), now).value is None
    assert "before 1995" in (plausible(datetime(1970, 1, 1, tzinfo=UTC), now).note or "")
    assert plausible(datetime(2999, 1, 1, tzinfo=UTC), now).note
    assert plausible(datetime(2026, 1, 19, tzinfo=UTC), now).value is not None
