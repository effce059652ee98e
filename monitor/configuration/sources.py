"""Validation of `sources.toml` (the outlets) and `topics.toml` (the gate and, later, topics).

Each problem is appended to ``problems`` as one line naming the file, the entry and the key, so
`monitor check-config` can show everything at once.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.configuration.units import parse_duration
from monitor.fetching.urls import is_http_url
from monitor.matching import topics
from monitor.matching.topics import TopicsConfig

SOURCE_KEYS = {"id", "name", "kind", "url", "language", "outlet", "scope", "interval", "enabled",
               "robots", "robots_reason", "proxy", "affiliation", "country",
               "category"}
REQUIRED_SOURCE_KEYS = ("id", "name", "kind", "url", "language", "outlet", "scope")
KINDS = ("feed", "page", "sitemap", "telegram")  # each one object in monitor.polling.source_kinds
# who the outlet is: how it stands to the Iranian state, or what kind of publisher it is
AFFILIATIONS = ("state", "state-aligned", "independent", "diaspora", "international",
                "human-rights", "wire", "aggregator")
_COUNTRY = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2 of where the outlet is based
_TELEGRAM_PATH = re.compile(r"^/s/[A-Za-z][A-Za-z0-9_]{3,63}/?$")
SCOPES = ("general", "topic")
ANY_OUTLET = "*"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # used with fullmatch: no "dup\n"
_LANG = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class SourceConfig:
    """One source as configured. ``outlet == '*'`` means: each item's publisher is its outlet."""

    id: str
    name: str
    kind: str  # feed | page
    url: str
    language: str
    outlet: str
    scope: str  # general (gated) | topic (every entry is a candidate)
    interval: float
    enabled: bool = True
    robots: str = "obey"  # obey | ignore (with robots_reason)
    proxy: str | None = None
    affiliation: str | None = None  # one of AFFILIATIONS
    country: str | None = None  # ISO 3166-1 alpha-2, e.g. "IR", "GB"
    category: str | None = None  # free text, for OPML export ("Iran/Human rights")

    @property
    def gated(self) -> bool:
        return self.scope == "general"

    @property
    def aggregator(self) -> bool:
        return self.outlet == ANY_OUTLET


def read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    """Load one TOML file; a missing or malformed file becomes a problem line, not an exception."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
    except PermissionError:
        problems.append(f"{path}: permission denied")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
    return {}


def _source(path: Path, index: int, raw: Any, default_interval: float, min_interval: float,
            problems: list[str]) -> SourceConfig | None:
    where = f"{path}: source[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a table")
        return None
    if isinstance(raw.get("id"), str):
        where = f"{path}: source '{raw['id']}'"
    before = len(problems)
    for key in sorted(set(raw) - SOURCE_KEYS):
        problems.append(f"{where}: {key}: unknown key")
    for key in REQUIRED_SOURCE_KEYS:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{where}: {key}: required (a non-empty string)")
    if len(problems) > before:
        return None
    _identity(raw, where, problems)
    _who(raw, where, problems)
    interval = _interval(raw, where, default_interval, min_interval, problems)
    _fetching(raw, where, problems)
    if len(problems) > before:
        return None
    return SourceConfig(
        id=raw["id"], name=raw["name"].strip(), kind=raw["kind"], url=raw["url"].strip(),
        language=raw["language"], outlet=raw["outlet"].strip(), scope=raw["scope"],
        interval=interval, enabled=raw.get("enabled", True), robots=raw.get("robots", "obey"),
        proxy=raw.get("proxy"), affiliation=raw.get("affiliation"), country=raw.get("country"),
        category=raw.get("category"),
    )


def _identity(raw: dict[str, Any], where: str, problems: list[str]) -> None:
    """id, kind, scope, url and language."""
    if not _ID.fullmatch(raw["id"]):
        problems.append(f"{where}: id: use lowercase letters, digits and '-' (at most 63)")
    if raw["kind"] not in KINDS:
        problems.append(f"{where}: kind: expected one of {', '.join(KINDS)}, got {raw['kind']!r}")
    if raw["scope"] not in SCOPES:
        problems.append(f"{where}: scope: expected one of {', '.join(SCOPES)}, "
                        f"got {raw['scope']!r}")
    if not is_http_url(raw["url"]):
        problems.append(f"{where}: url: expected an http(s) URL")
    elif raw["kind"] == "telegram" and not _TELEGRAM_PATH.match(urlsplit(raw["url"]).path):
        problems.append(f"{where}: url: a Telegram channel's public preview, "
                        "https://t.me/s/NAME (note the /s/)")
    if not _LANG.fullmatch(raw["language"]):
        problems.append(f"{where}: language: expected a language code such as 'en' or 'fa'")


def _interval(raw: dict[str, Any], where: str, default: float, minimum: float,
              problems: list[str]) -> float:
    if "interval" not in raw:
        return default
    try:
        interval = parse_duration(raw["interval"])
    except ValueError as exc:
        problems.append(f"{where}: interval: {exc}")
        return default
    if interval < minimum:
        problems.append(f"{where}: interval: below polling.min_interval ({minimum:g}s)")
    return interval


def _fetching(raw: dict[str, Any], where: str, problems: list[str]) -> None:
    """enabled, robots (and its reason) and proxy."""
    if not isinstance(raw.get("enabled", True), bool):
        problems.append(f"{where}: enabled: expected true or false")
    robots = raw.get("robots", "obey")
    if robots not in ("obey", "ignore"):
        problems.append(f"{where}: robots: expected 'obey' or 'ignore'")
    elif robots == "ignore" and not str(raw.get("robots_reason", "")).strip():
        problems.append(f"{where}: robots_reason: required when robots = 'ignore' (say why)")
    proxy = raw.get("proxy")
    if proxy is not None and not (isinstance(proxy, str) and proxy.startswith(
            ("http://", "https://"))):
        problems.append(f"{where}: proxy: expected an http(s) proxy URL")


def _who(raw: dict[str, Any], where: str, problems: list[str]) -> None:
    affiliation = raw.get("affiliation")
    if affiliation is not None and affiliation not in AFFILIATIONS:
        problems.append(f"{where}: affiliation: expected one of {', '.join(AFFILIATIONS)}, "
                        f"got {affiliation!r}")
    country = raw.get("country")
    if country is not None and not (isinstance(country, str) and _COUNTRY.match(country)):
        problems.append(f"{where}: country: expected a two-letter ISO 3166 code such as "
                        f"'IR' or 'GB', got {country!r}")
    category = raw.get("category")
    if category is not None and not (isinstance(category, str) and 0 < len(category) <= 200):
        problems.append(f"{where}: category: expected a short text")


def load_sources(path: Path, default_interval: float, min_interval: float,
                 problems: list[str]) -> tuple[SourceConfig, ...]:
    data = read_toml(path, problems)
    for key in sorted(set(data) - {"source"}):
        problems.append(f"{path}: {key}: unknown key (sources are [[source]] tables)")
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list):
        problems.append(f"{path}: source: expected [[source]] tables")
        return ()
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_sources):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str) and raw_id in seen:
            problems.append(f"{path}: source '{raw_id}': id: used twice")
            continue
        if isinstance(raw_id, str):
            seen.add(raw_id)
        source = _source(path, index, raw, default_interval, min_interval, problems)
        if source is not None:
            sources.append(source)
    return tuple(sources)


def load_topics(path: Path, problems: list[str]) -> TopicsConfig:
    """Read topics.toml: alias groups and topic rules (see monitor.matching.topics)."""
    data = read_toml(path, problems)
    if not data:
        return TopicsConfig()
    return topics.load(data, path, problems)
