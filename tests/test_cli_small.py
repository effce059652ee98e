"""The small things a user trips over on the command line (issue 17, point 8)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import demo_db
from tests.conftest import REPO


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    return demo_db.build(folder)


@pytest.mark.parametrize("command", [["export"], ["stats"], ["export", "--format", "csv"]])
def test_a_pipe_closed_early_is_no_traceback(demo: Path, command: list[str]) -> None:
    writer = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(demo), *command],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.readline()
    writer.stdout.close()  # what `| head -1` does
    err = writer.stderr.read().decode()
    writer.stderr.close()
    writer.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_config_and_verbose_after_the_command(demo: Path) -> None:
    got = demo_db.monitor("stories", "--config", str(demo), "-v", "--limit", "2")
    assert got.returncode == 0, got.stderr
    got = demo_db.monitor("alerts", "list", "--config", str(demo), "-vv")
    assert got.returncode == 0, got.stderr


def test_show_of_an_unknown_story_is_not_a_database_problem(demo: Path) -> None:
    got = demo_db.monitor("--config", str(demo), "show", "9999")
    assert got.returncode == 1 and "no story 9999" in got.stderr


def test_backup_onto_the_live_database_is_refused(demo: Path) -> None:
    db = demo.parent / "feed-monitor.db"
    before = db.read_bytes()
    got = demo_db.monitor("--config", str(demo), "backup", str(db))
    assert got.returncode == 2 and "live database" in got.stderr
    assert db.read_bytes() == before


def test_status_right_after_the_demo_is_healthy_and_says_when_each_source_is_next(
        demo: Path) -> None:
    got = demo_db.monitor("--config", str(demo), "status")
    assert got.returncode == 0, got.stdout
    assert "silent" not in got.stdout and got.stdout.rstrip().endswith("healthy")
    assert "next check" in got.stdout
    assert re.search(r"payam-daily .* in \d+m\b", got.stdout)  # the demo polls every 5m
    assert "never started" in got.stdout
