"""The `monitor` command as a user runs it: exit codes, messages, and the README's command list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import COMMANDS, main
from tests.conftest import REPO, MakeSettings, source_toml


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"`monitor {name}`" in readme, name


def test_python_dash_m_monitor_works() -> None:
    out = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0 and "check-config" in out.stdout


def test_shipped_configuration_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(REPO / "config" / "monitor.toml"), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "sources: " in out


def test_check_config_reports_all_problems_with_exit_2(
        make_settings: MakeSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_settings(source_toml("ok", "http://x.org/feed"))
    (tmp_path / "monitor.toml").write_text('[fetch]\ndeadline = "never"\nbogus = 1\n')
    (tmp_path / "sources.toml").write_text(source_toml("bad", "ftp://x.org/f", language="Persian"))
    assert main(["--config", str(tmp_path / "monitor.toml"), "check-config"]) == 2
    err = capsys.readouterr().err
    for expected in ("fetch.deadline", "fetch.bogus: unknown key", "source 'bad': url",
                     "source 'bad': language"):
        assert expected in err, err
    assert "4 problems" in err


def test_missing_config_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.toml"), "check-config"]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_migrate_then_database_from_the_future_is_exit_3(
        make_settings: MakeSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(source_toml("ok", "http://x.org/feed"))
    config = str(tmp_path / "monitor.toml")
    assert main(["--config", config, "migrate"]) == 0
    import sqlite3
    conn = sqlite3.connect(settings.database.path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('feed-monitor', '9999_future', '2030-01-01')")
    conn.commit()
    conn.close()
    assert main(["--config", config, "migrate"]) == 3
    assert "9999_future" in capsys.readouterr().err


def test_once_with_unknown_source_and_with_every_source_failing(
        make_settings: MakeSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_settings(source_toml("dead", "http://127.0.0.1:9/feed"))
    config = str(tmp_path / "monitor.toml")
    assert main(["--config", config, "once", "--source", "nosuch"]) == 2
    assert main(["--config", config, "once", "--all"]) == 1
    out = capsys.readouterr().out
    assert "dead" in out and "1 failed" in out


def test_ignoring_robots_txt_needs_a_reason(make_settings: MakeSettings, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    make_settings(source_toml("ok", "http://x.org/feed"))
    (tmp_path / "sources.toml").write_text(
        source_toml("a", "http://x.org/a") + 'robots = "ignore"\n'
        + source_toml("b", "http://x.org/b") + 'robots = "ignore"\n'
        'robots_reason = "the outlet asked us to poll its section pages"\n'
        + source_toml("c", "http://x.org/c") + 'proxy = "socks5://x"\n')
    assert main(["--config", str(tmp_path / "monitor.toml"), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "source 'a': robots_reason: required" in err and "source 'b'" not in err
    assert "source 'c': proxy" in err
