"""Alert channels, one module each (console, smtp for email, slack, webhook). Each declares its
settings, its secrets, its checks and its `send` in a `ChannelSpec`; the registry below is the
one list of channels: the settings table, the channels the dispatcher gets and the secrets the
logs redact all come from it. Adding a channel is one module plus its entry here."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

import httpx

from monitor.alerts.channels import console, slack, smtp, webhook
from monitor.alerts.channels.base import Channel, ChannelSpec, Context
from monitor.alerts.channels.console import Console
from monitor.alerts.channels.slack import Slack, slack_escape, slack_payload
from monitor.alerts.channels.smtp import Email, EmailOptions
from monitor.alerts.channels.webhook import Webhook, describe

if TYPE_CHECKING:
    from monitor.configuration.settings import AlertSettings

REGISTRY: dict[str, ChannelSpec] = {s.name: s for s in (console.SPEC, smtp.SPEC, slack.SPEC,
                                                          webhook.SPEC)}

__all__ = ["REGISTRY", "Channel", "ChannelSpec", "Console", "Email", "EmailOptions", "Slack",
           "Webhook", "build", "describe", "slack_escape", "slack_payload"]


def build(settings: AlertSettings, client: httpx.AsyncClient,
          console_out: IO[str] | None = None) -> dict[str, Channel]:
    """The enabled channels, by name."""
    ctx = Context(client, console_out, settings.timeout)
    return {name: REGISTRY[name].make(settings.options[name], ctx)
            for name, policy in settings.channels.items() if policy.enabled}
