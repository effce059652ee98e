"""The console channel: alerts printed on standard output (or a given stream)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from monitor.alerts import messages
from monitor.alerts.channels.base import ChannelSpec, no_problems
from monitor.configuration.secrets import Secret
from storage.records import AlertRow


class Console:
    name = "console"

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        for block in [rows] if digest else [[r] for r in rows]:
            print("ALERT " + messages.plain_text(block, digest, self.name) + "\n", file=self.out)
        self.out.flush()


@dataclass(frozen=True)
class ConsoleOptions:
    pass


def _configure(values: Mapping[str, Any], secrets: Mapping[str, Secret | None],
               base: Path) -> ConsoleOptions:
    return ConsoleOptions()


SPEC = ChannelSpec(
    name="console", enabled_help="print alerts on standard output", settings=(), secrets=(),
    configure=_configure, check=no_problems,
    make=lambda options, ctx: Console(ctx.console_out))
