"""Configuration: validated once, every problem reported with file and key, secrets never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.configuration.settings import SECRET_KEYS, SETTINGS, find_config, load_settings
from monitor.errors import ConfigError
from tests.conftest import REPO, MakeSettings, source_toml


def test_shipped_configuration_is_valid() -> None:
    settings = load_settings(REPO / "config" / "monitor.toml", env={})
    assert len(settings.sources) >= 20
    assert sum(s.language == "fa" for s in settings.sources) >= 5
    assert {"feed", "page", "sitemap", "telegram"} <= {s.kind for s in settings.sources}
    assert any(s.aggregator for s in settings.sources)
    assert all(s.affiliation for s in settings.sources)  # who each outlet is
    assert {"state", "state-aligned", "human-rights", "diaspora"} <= {
        s.affiliation for s in settings.sources}
    # contradicted by public evidence: Iran International publishes no RSS
    assert not any("iranintl.com/" in s.url and s.url.endswith("/rss") for s in settings.sources)
    assert settings.alerts.enabled_channels() == []


def test_every_setting_is_documented_and_shipped() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shipped = (REPO / "config" / "monitor.toml").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.key}`" in readme, f"{setting.key} missing from README"
        leaf = setting.key.rsplit(".", 1)[1]
        if setting.key not in SECRET_KEYS:
            assert re.search(rf"^{re.escape(leaf)}\s*=", shipped, re.M), setting.key
        assert setting.help


def test_all_problems_reported_at_once(make_settings: MakeSettings, tmp_path: Path) -> None:
    make_settings()
    (tmp_path / "monitor.toml").write_text(
        '[fetch]\ndeadline = "soon"\nmax_redirects = -1\ntypo_key = 1\n'
        '[polling]\nconcurrency = 0\n', encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        source_toml("a", "javascript:alert(1)") + source_toml("a", "http://x.org/")
        + '[[source]]\nid = "b"\nkind = "telepathy"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "monitor.toml", env={})
    text = "\n".join(info.value.problems)
    for expected in ["fetch.deadline", "fetch.max_redirects", "fetch.typo_key: unknown key",
                     "polling.concurrency", "source 'a': url", "source 'a': id: used twice",
                     "source 'b': name: required"]:
        assert expected in text, expected
    assert all(str(tmp_path) in p for p in info.value.problems)


def test_secret_values_never_appear_in_errors(make_settings: MakeSettings,
                                              tmp_path: Path) -> None:
    make_settings()
    secret_file = tmp_path / "hook"
    secret_file.write_text("https://hooks.slack.com/services/T000/B000/SECRETSECRET\n")
    body = (tmp_path / "monitor.toml").read_text()
    (tmp_path / "monitor.toml").write_text(
        body + '\n[alerts.slack]\nenabled = true\nwebhook_url_file = "hook"\n'
        '[alerts.email]\nenabled = true\nto = ["a@b.c"]\nusername = "u"\n'
        'password_env = "SMTP_PW"\n[alerts.webhook]\nenabled = true\nurl = "http://inline"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "monitor.toml", env={})
    text = "\n".join(info.value.problems)
    assert "SMTP_PW is not set" in text
    assert "alerts.webhook.url: a secret cannot be written in the file" in text
    assert "SECRETSECRET" not in text

    (tmp_path / "monitor.toml").write_text(
        body + '\n[alerts.slack]\nenabled = true\nwebhook_url_file = "hook"\n'
        '[[alerts.rule]]\nchannels = ["slack"]\n')
    settings = load_settings(tmp_path / "monitor.toml", env={})
    assert settings.alerts.options["slack"].webhook_url is not None
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.alerts)
    assert settings.alerts.options["slack"].webhook_url.reveal().endswith("SECRETSECRET")


def test_credentials_directory(make_settings: MakeSettings, tmp_path: Path) -> None:
    make_settings()
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp").write_text("pw-from-systemd")
    body = (tmp_path / "monitor.toml").read_text()
    (tmp_path / "monitor.toml").write_text(
        body + '\n[alerts.email]\nenabled = true\nto = ["a@b.c"]\nusername = "u"\n'
        'password_file = "$CREDENTIALS_DIRECTORY/smtp"\n[[alerts.rule]]\nchannels = ["email"]\n')
    settings = load_settings(tmp_path / "monitor.toml", env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert settings.alerts.options["email"].password is not None
    assert settings.alerts.options["email"].password.reveal() == "pw-from-systemd"


def test_relative_paths_resolve_against_the_config_folder(make_settings: MakeSettings,
                                                          tmp_path: Path) -> None:
    settings = make_settings(source_toml("a", "http://x.org/feed"))
    assert settings.database.path == tmp_path / "test.db"
    assert settings.sources[0].id == "a"


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_config("given.toml", env={"FEED_MONITOR_CONFIG": "env.toml"}) == Path("given.toml")
    assert find_config(None, env={"FEED_MONITOR_CONFIG": "env.toml"}) == Path("env.toml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "monitor.toml").write_text("")
    assert find_config(None, env={}) == Path("config/monitor.toml")


def test_malformed_toml_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text("[database\npath = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path / "monitor.toml", env={})
