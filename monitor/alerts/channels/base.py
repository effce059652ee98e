"""What every alert channel is: a `Channel` sends outbox rows or raises `ChannelError`; a
`ChannelSpec` declares the channel to the rest of the monitor (its settings rows in
monitor.toml, its secrets, its checks, how its options are built and how it is made), so the
settings table, channel construction and secret redaction all come from the registry
(`monitor.alerts.channels.REGISTRY`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from monitor.configuration.secrets import Secret
from monitor.configuration.table import Setting
from storage.records import AlertRow


class Channel(Protocol):
    name: str

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None: ...


@dataclass(frozen=True)
class Context:
    """What a channel may need to be made: the shared HTTP client, the console's stream, the
    time limit of one send."""

    client: httpx.AsyncClient
    console_out: IO[str] | None
    timeout: float


@dataclass(frozen=True)
class SecretSpec:
    """A secret of a channel: `alerts.<channel>.<key>_env` or `_file` in monitor.toml."""

    key: str
    help: str
    required: Callable[[Mapping[str, Any]], bool]  # given the channel's values, when enabled


def always(values: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    enabled_help: str
    settings: tuple[Setting, ...]  # full keys: alerts.<name>.<key>
    secrets: tuple[SecretSpec, ...]
    # the options object from the channel's validated values and resolved secrets
    configure: Callable[[Mapping[str, Any], Mapping[str, Secret | None], Path], Any]
    # problems of an enabled channel, as "key: what is wrong" (never a secret's value)
    check: Callable[[Mapping[str, Any], Mapping[str, Secret | None]], list[str]]
    make: Callable[[Any, Context], Channel]

    def values(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """The channel's own settings by short key, from the parsed table."""
        prefix = f"alerts.{self.name}."
        return {s.key[len(prefix):]: flat.get(s.key) for s in self.settings}

    def secret_values(self, options: Any) -> Iterable[Secret]:
        for spec in self.secrets:
            value = getattr(options, spec.key, None)
            if isinstance(value, Secret):
                yield value


def no_problems(values: Mapping[str, Any], secrets: Mapping[str, Secret | None]) -> list[str]:
    return []
