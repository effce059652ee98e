"""Channels that POST JSON to a URL (Slack, webhooks): 2xx is delivered, 429 and 5xx are
retried (Retry-After honoured), other 4xx are permanent. The URL is a secret: errors name what
went wrong, never the address."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from monitor.alerts.channels.base import ChannelSpec, Context, SecretSpec, always
from monitor.configuration.secrets import Secret
from monitor.errors import FOREIGN_URL_ERRORS, ChannelError
from monitor.fetching.http import parse_retry_after
from monitor.fetching.urlcheck import url_problem
from storage.records import AlertRow


class HttpChannel:
    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self._url = url

    def payload(self, rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        body = json.dumps(self.payload(rows, digest), ensure_ascii=False).encode("utf-8")
        try:
            resp = await self.client.post(self._url, content=body,
                                          headers={"Content-Type": "application/json"})
        except httpx.TimeoutException:
            raise ChannelError(f"{self.name}: timed out") from None
        except httpx.HTTPError as exc:  # the URL is a secret: name the error, not the address
            raise ChannelError(f"{self.name}: {type(exc).__name__}") from None
        except FOREIGN_URL_ERRORS as exc:  # an unusable URL: no retry can help
            raise ChannelError(f"{self.name}: invalid URL ({type(exc).__name__})",
                               permanent=True) from None
        if resp.status_code < 300:
            return
        retry_after = parse_retry_after(resp.headers.get("retry-after"))
        transient = resp.status_code == 429 or resp.status_code >= 500
        raise ChannelError(f"{self.name}: HTTP {resp.status_code}", permanent=not transient,
                           retry_after=retry_after)


def url_spec(name: str, enabled_help: str, key: str, key_help: str,
             channel: type[HttpChannel], options: Callable[[Secret | None], Any]) -> ChannelSpec:
    """The spec of a channel whose one setting is a secret URL (`alerts.<name>.<key>`): its
    options hold that secret, its check refuses an unusable URL, and it posts to it."""
    def configure(values: Mapping[str, Any], secrets: Mapping[str, Secret | None],
                  base: Path) -> Any:
        return options(secrets.get(key))

    def make(opts: Any, ctx: Context) -> HttpChannel:
        url = getattr(opts, key)
        assert url is not None  # required when enabled: checked by the settings
        return channel(ctx.client, url.reveal())

    return ChannelSpec(name=name, enabled_help=enabled_help, settings=(),
                       secrets=(SecretSpec(key, key_help, always),), configure=configure,
                       check=url_checker(key), make=make)


def url_checker(key: str) -> Any:
    """A channel check: the secret URL `key` must be a fetchable http(s) URL (no invisible or
    control character in the host, valid IDNA...): refused at configuration time rather than
    at the first alert. The problem gives the reason, never the URL."""
    def check(values: Mapping[str, Any], secrets: Mapping[str, Secret | None]) -> list[str]:
        secret = secrets.get(key)
        problem = url_problem(secret.reveal()) if secret is not None else None
        return [f"{key}: not a usable URL: {problem}"] if problem else []
    return check
