"""Writing `sources.toml` from commands (`monitor sources add`, `import`) without losing a byte of
what the user wrote: tomlkit keeps comments, blank lines, key order and quoting; new
``[[source]]`` tables are appended at the end.

A write is all or nothing: the new text is validated by the same loader the daemon uses
(`monitor.configuration.sources.load_sources`) in a temporary file next to the original, and
only then renamed over it. A running daemon picks the change up on SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit

from monitor.configuration.settings import Settings
from monitor.configuration.sources import load_sources
from monitor.errors import ConfigError
from monitor.fetching.urls import canonical_url

_NOT_ID = re.compile(r"[^a-z0-9]+")


def sources_path(settings: Settings) -> Path:
    """The sources file the configuration names (monitor.toml `files.sources`)."""
    with settings.config_path.open("rb") as fh:
        data = tomllib.load(fh)
    files = data.get("files") if isinstance(data.get("files"), dict) else {}
    name = files.get("sources", "sources.toml") if isinstance(files, dict) else "sources.toml"
    return settings.config_path.resolve().parent / str(name)


def url_key(url: str) -> str:
    """How two source URLs are compared for duplicates: canonical form, no trailing slash."""
    with contextlib.suppress(ValueError):
        url = canonical_url(url)
    return url.rstrip("/").lower()


def new_id(hint: str, taken: set[str]) -> str:
    """A fresh kebab-case id from a name or URL (ASCII only; Persian names fall back to the
    URL's host)."""
    base = _NOT_ID.sub("-", hint.lower()).strip("-")[:50].strip("-")
    if len(base) < 3:
        host = (urlsplit(hint).hostname or "source") if "://" in hint else "source"
        base = _NOT_ID.sub("-", host.lower().removeprefix("www.")).strip("-")[:50] or "source"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def append_sources(settings: Settings, tables: Iterable[dict[str, Any]]) -> Path:
    """Append `[[source]]` tables to the sources file, validated, atomically."""
    path = sources_path(settings)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    document = tomlkit.parse(text)
    array = document.get("source")
    if array is None:
        array = tomlkit.aot()
        document.append("source", array)
    for raw in tables:
        table = tomlkit.table()
        for key, value in raw.items():
            if value is not None:
                table.add(key, value)
        array.append(table)
    new_text = tomlkit.dumps(document)
    fd, temp_name = tempfile.mkstemp(prefix=".sources-", suffix=".toml", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_text)
        problems: list[str] = []
        load_sources(temp, settings.polling.interval or 900.0,
                     settings.polling.min_interval or 0.0, problems)
        if problems:
            raise ConfigError([p.replace(str(temp), str(path)) for p in problems])
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
