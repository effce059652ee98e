"""Progress for long commands (rebuild-index, reextract, export): click's progress bar (click is
already installed with sqlite-utils), on stderr, only when stderr is a terminal; plain output
otherwise, so logs and pipes stay clean."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import click


class Progress(Protocol):
    def update(self, n_steps: int) -> None: ...


class _Silent:
    def update(self, n_steps: int) -> None:
        pass


@contextmanager
def progress(total: int | None, label: str) -> Iterator[Progress]:
    if not sys.stderr.isatty():
        yield _Silent()
        return
    bar: Any
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar
