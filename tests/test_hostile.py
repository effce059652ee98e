"""The table-driven hostile suite (tests/hostile.py) under pytest: every case holds its
expectation, nothing crashes, nothing is stored twice, no fake secret reaches a log line."""

from __future__ import annotations

import logging

import pytest

from tests.hostile import CASES, FAKE_SECRETS, Outcome, run_cases
from tests.hostile_checks import run_checks
from tests.hostile_ops2 import all_checks


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    return {o.case.name: o for o in run_cases()}


def test_there_are_at_least_50_cases() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", [c.name for c in all_checks()])
def test_check(name: str) -> None:
    """Round two's checks that are not a feed of a poll run (tests/hostile_checks.py)."""
    check = next(c for c in all_checks() if c.name == name)
    outcome = run_checks([check])[0]
    assert not outcome.crashed and outcome.passed, outcome.detail


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case(outcomes: dict[str, Outcome], name: str) -> None:
    outcome = outcomes[name]
    assert not outcome.crashed and outcome.passed, outcome.detail


def test_other_sources_unaffected(outcomes: dict[str, Outcome]) -> None:
    assert "healthy source intact" not in outcomes


def test_no_secret_in_any_log_line_or_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    results = run_cases([c for c in CASES if c.category in ("http", "guard")])
    texts = [caplog.text] + [o.detail for o in results]
    assert not any(secret in text for text in texts for secret in FAKE_SECRETS.values())


@pytest.mark.slow
def test_crash_loop_loses_and_repeats_nothing() -> None:
    from tests.hostile import crash_loop

    result = crash_loop(kills=20)
    assert result["missing"] == 0 and result["duplicated_items"] == 0
    assert result["duplicated_alerts"] == 0 and result["integrity"] == "ok"
    assert result["rebuild_left"] == 0 and result["backup"] in ("none", "ok")


@pytest.mark.slow
def test_http_client_soak_keeps_its_pool() -> None:
    from tests.hostile import client_soak

    result = client_soak(10_000)
    assert result["other"] == 0 and result["fetch_after_soak_s"] < 5
