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


@pytest.mark.parametrize(("option", "message"), [
    (["--topic", "defekshuns"], "no such topic (topics: defections, protests)"),
    (["--source", "nosuch"], "no such source id"),
    (["--lang", "xx"], "expected one of en, fa"),
    (["--since", "2026-13-40"], "not a date"),
])
def test_filters_that_name_nothing_are_refused(demo: Path, option: list[str],
                                               message: str) -> None:
    got = demo_db.monitor("--config", str(demo), "search", "asylum", *option)
    assert got.returncode == 2 and message in got.stderr, got.stderr
    if option[0] != "--source" and option[0] != "--lang":
        got = demo_db.monitor("--config", str(demo), "stories", *option)
        assert got.returncode == 2 and message in got.stderr, got.stderr


def test_search_gives_one_row_per_story_with_sources_and_published_snippets(
        demo: Path) -> None:
    import json

    got = demo_db.monitor("--config", str(demo), "search", "asylum", "--json", "--limit", "50")
    rows = json.loads(got.stdout)
    stories = [r["story_id"] for r in rows]
    assert rows and len(stories) == len(set(stories))
    assert any("newsfinder" in r["sources"] and len(r["sources"]) > 1 for r in rows)
    # the stored text as published: capitals kept, the match marked
    assert any("[asylum]" in r["snippet"] and "Austria" in r["snippet"] for r in rows)
    table = demo_db.monitor("--config", str(demo), "search", "asylum").stdout
    assert "source" in table.splitlines()[0]


def test_search_with_a_space_where_the_text_has_a_zwnj(demo: Path) -> None:
    import json

    spaced = json.loads(demo_db.monitor("--config", str(demo), "search", "کرده اند", "--json",
                                        "--limit", "50").stdout)
    joined = json.loads(demo_db.monitor("--config", str(demo), "search", "کرده\u200cاند",
                                        "--json", "--limit", "50").stdout)
    assert joined and {r["story_id"] for r in joined} <= {r["story_id"] for r in spaced}
    assert any("کرده\u200cاند" in r["snippet"] for r in spaced)


def test_show_lists_each_article_once_and_its_topics(demo: Path) -> None:
    import json

    rows = json.loads(demo_db.monitor("--config", str(demo), "stories", "--json",
                                      "--limit", "100").stdout)
    story = next(r for r in rows if r["topics"] and r["outlet_count"] >= 3)
    out = demo_db.monitor("--config", str(demo), "show", str(story["id"])).stdout
    urls = re.findall(r"https?://\S+", out)
    assert urls and len(urls) == len(set(urls))
    assert "topics: " in out and "matched «" in out


def _shipped_copy(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config"


def test_check_config_names_the_file_line_of_a_broken_rule_once(tmp_path: Path) -> None:
    folder = _shipped_copy(tmp_path)
    topics = folder / "topics.toml"
    text = topics.read_text(encoding="utf-8")
    start = text.index('rule = """')
    broken = text[:start] + text[start:].replace("(", "((", 1)
    topics.write_text(broken, encoding="utf-8")
    got = demo_db.monitor("--config", str(folder / "monitor.toml"), "check-config")
    problems = [line for line in got.stderr.splitlines() if line.startswith("  ")]
    assert got.returncode == 2 and len(problems) == 1, got.stderr  # no follow-on errors
    line = int(re.search(r"rule: line (\d+), column \d+: expected '\)'", problems[0])[1])
    rule_end = broken.index('"""', start + 10)
    assert line == broken[:rule_end].count("\n") + 1  # where the rule ends unclosed
    assert "position" not in got.stderr


def test_check_config_warns_when_nobody_will_be_alerted(tmp_path: Path) -> None:
    folder = _shipped_copy(tmp_path)
    got = demo_db.monitor("--config", str(folder / "monitor.toml"), "check-config")
    assert got.returncode == 0 and "every alert channel is disabled" in got.stderr


def test_the_readme_secrets_paragraph_is_not_part_of_the_settings_table() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("**Secrets**"))
    assert lines[at - 1] == ""  # a blank line ends the table in Markdown
