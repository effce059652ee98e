"""The channel registry is the one list of channels: the settings table, the channels the
dispatcher gets and the secrets the logs redact all come from it."""

from __future__ import annotations

import io

import httpx
import pytest

from monitor.alerts.channels import REGISTRY, build
from monitor.configuration.settings import SETTINGS, channel_rows
from tests.conftest import MakeSettings, source_toml


def test_every_channel_declares_its_rows_and_the_table_holds_them() -> None:
    keys = {s.key for s in SETTINGS}
    for name, spec in REGISTRY.items():
        rows = {s.key for s in channel_rows(spec)}
        assert {f"alerts.{name}.enabled", f"alerts.{name}.mode"} <= rows
        assert {f"alerts.{name}.{s.key}" for s in spec.secrets} <= rows
        assert rows <= keys
    assert sorted(REGISTRY) == ["console", "email", "slack", "webhook"]


def test_enabled_channels_are_built_and_their_secrets_redacted(
        make_settings: MakeSettings) -> None:
    settings = make_settings(
        source_toml("s", "http://s.example/feed"),
        extra=('[[alerts.rule]]\nchannels = ["console", "slack"]\n'
               '[alerts.console]\nenabled = true\n'
               '[alerts.slack]\nenabled = true\nwebhook_url_env = "HOOK"\n'),
        env={"HOOK": "https://hooks.example.org/T0/B0/SECRETSECRET"})
    assert settings.alerts.enabled_channels() == ["console", "slack"]
    assert [s.reveal() for s in settings.alerts.secret_values()] == [
        "https://hooks.example.org/T0/B0/SECRETSECRET"]

    async def channels() -> list[str]:
        async with httpx.AsyncClient() as client:
            return sorted(build(settings.alerts, client, io.StringIO()))

    import asyncio
    assert asyncio.run(channels()) == ["console", "slack"]


def test_a_channel_check_names_the_key_and_never_the_secret(
        make_settings: MakeSettings) -> None:
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_settings(source_toml("s", "http://s.example/feed"),
                      extra=('[[alerts.rule]]\nchannels = ["webhook"]\n'
                             '[alerts.webhook]\nenabled = true\nurl_env = "HOOK"\n'),
                      env={"HOOK": "https://hooks\u200b.example.org/secret-path"})
    text = str(caught.value)
    assert "alerts.webhook.url: not a usable URL" in text and "secret-path" not in text
