"""Configuration: read the TOML files once, validate everything, report all problems together.

`load_settings(path)` returns a frozen `Settings` or raises `ConfigError` with one line per problem,
each naming the file and the key. Nothing else in the daemon reads configuration files or the
environment for settings: the values are passed explicitly from here.

`monitor.toml` is described by the `SETTINGS` table below: every key has a default, a help text
and a validator, and a test checks that each one is documented in the README and present in the
shipped `config/monitor.toml`. The sources and topics files are validated by
`monitor.configuration.sources`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from monitor.alerts.channels import REGISTRY, ChannelSpec
from monitor.alerts.rules import AlertRule, ChannelPolicy, load_rules
from monitor.configuration.lines import declared_topics
from monitor.configuration.secrets import Secret, SecretRef, parse_secret_ref
from monitor.configuration.sources import (
    SourceConfig,
    load_sources,
    load_topics,
    read_toml,
)
from monitor.configuration.table import CORE, Network, Setting, policy_rows
from monitor.errors import ConfigError
from monitor.matching.topics import TopicsConfig

CONFIG_ENV = "FEED_MONITOR_CONFIG"
SEARCH_PATHS = (Path("config/monitor.toml"), Path("/etc/feed-monitor/monitor.toml"))

_T = TypeVar("_T")


def channel_rows(spec: ChannelSpec) -> tuple[Setting, ...]:
    """A channel's rows of the table: whether it is on, its own settings and secrets, and the
    policy every channel has (mode, digests, flood guard)."""
    secrets = (Setting(f"alerts.{spec.name}.{s.key}", None, s.help, parse_secret_ref)
               for s in spec.secrets)
    return (*policy_rows(spec.name, spec.enabled_help)[:1], *spec.settings, *secrets,
            *policy_rows(spec.name, spec.enabled_help)[1:])


SETTINGS: tuple[Setting, ...] = CORE + tuple(row for spec in REGISTRY.values()
                                             for row in channel_rows(spec))
SECRET_KEYS = frozenset(s.key for s in SETTINGS if s.parse is parse_secret_ref)


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path
    busy_timeout: float
    raw_html_retention: float
    fetch_log_retention: float


@dataclass(frozen=True)
class PollingSettings:
    interval: float
    max_interval: float
    min_interval: float
    tick: float
    concurrency: int
    article_concurrency: int
    max_entries_per_run: int
    jitter: float
    error_backoff_base: float
    error_backoff_cap: float


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str
    contact_url: str
    connect_timeout: float
    read_timeout: float
    deadline: float
    max_wire_bytes: int
    max_decoded_bytes: int
    max_redirects: int
    per_host_concurrency: int
    allow_networks: tuple[Network, ...]
    host_spacing: float
    proxy: str

    @property
    def user_agent_header(self) -> str:
        return f"{self.user_agent} (+{self.contact_url})"


@dataclass(frozen=True)
class ExtractionSettings:
    workers: int
    timeout: float
    parse_timeout: float
    max_html_bytes: int
    max_elements: int
    recycle_after: int


@dataclass(frozen=True)
class AlertSettings:
    """The alerting part of the configuration. Which channels are enabled lives in one place,
    `channels` (each channel's policy); `options` holds each channel's own options object, as
    its module (monitor.alerts.channels) declares it."""

    channels: dict[str, ChannelPolicy]
    options: dict[str, Any]
    rules: tuple[AlertRule, ...]
    max_age: float
    rollups: tuple[int, ...]
    revisits: tuple[float, ...]
    dispatch_every: float
    max_attempts: int
    retry_base: float
    retry_cap: float
    timeout: float
    story_base_url: str = ""  # web.base_url: alerts link to {story_base_url}/stories/{id}

    def enabled_channels(self) -> list[str]:
        return [name for name, policy in self.channels.items() if policy.enabled]

    def secret_values(self) -> list[Secret]:
        """Every resolved channel secret (to be redacted from every log line)."""
        return [secret for name, spec in REGISTRY.items() if name in self.options
                for secret in spec.secret_values(self.options[name])]


@dataclass(frozen=True)
class HealthSettings:
    failing_after: int
    silent_factor: float
    min_history: int
    heartbeat_stale: float
    operator_channels: tuple[str, ...]
    expect_daemon: bool


@dataclass(frozen=True)
class DedupSettings:
    window: float
    boilerplate_min_items: int


@dataclass(frozen=True)
class WebSettings:
    base_url: str
    host: str
    port: int
    token: SecretRef | None  # resolved by `monitor web` only, never by the daemon
    datasette_url: str


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool
    host: str
    port: int


@dataclass(frozen=True)
class Settings:
    config_path: Path
    database: DatabaseSettings
    polling: PollingSettings
    fetch: FetchSettings
    extraction: ExtractionSettings
    dedup: DedupSettings
    health: HealthSettings
    alerts: AlertSettings
    sources: tuple[SourceConfig, ...]
    topics: TopicsConfig
    web: WebSettings
    metrics: MetricsSettings

    def source(self, source_id: str) -> SourceConfig | None:
        return self._by_id.get(source_id)

    @cached_property
    def _by_id(self) -> dict[str, SourceConfig]:
        """Sources by id, built once: a scan per lookup cost O(n^2) per cycle at 10,000."""
        by_id: dict[str, SourceConfig] = {}
        for s in self.sources:
            by_id.setdefault(s.id, s)  # the first of a (refused) duplicate, as the scan did
        return by_id


def find_config(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """Lookup order: --config, $FEED_MONITOR_CONFIG, ./config/monitor.toml, /etc/feed-monitor/."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    for candidate in SEARCH_PATHS:
        if candidate.exists():
            return candidate
    raise ConfigError(
        [f"no configuration found: pass --config, set ${CONFIG_ENV}, or create "
         + " or ".join(str(p) for p in SEARCH_PATHS)]
    )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _read_monitor_toml(path: Path, data: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    flat = _flatten(data)
    known = {s.key: s for s in SETTINGS}
    values: dict[str, Any] = {}
    secret_parts = {k + suffix for k in SECRET_KEYS for suffix in ("_env", "_file")}
    for key in flat:
        if key in SECRET_KEYS:
            leaf = key.rsplit(".", 1)[1]
            problems.append(f"{path}: {key}: a secret cannot be written in the file; "
                            f"give {leaf}_env or {leaf}_file")
        elif key not in known and key not in secret_parts and key != "alerts.rule":
            problems.append(f"{path}: {key}: unknown key")
    for setting in SETTINGS:
        if setting.key in SECRET_KEYS:
            raw: Any = {suffix: flat[setting.key + suffix] for suffix in ("_env", "_file")
                        if setting.key + suffix in flat}
            raw = raw or None
        else:
            raw = flat.get(setting.key, setting.default)
        try:
            values[setting.key] = setting.parse(raw)
        except ValueError as exc:
            problems.append(f"{path}: {setting.key}: {exc}")
            values[setting.key] = None
    return values


def _no_secret(*_args: Any) -> None:
    return None


def _resolve_secret(ref: SecretRef | None, key: str, needed: bool, base: Path,
                    env: Mapping[str, str], path: Path, problems: list[str]) -> Secret | None:
    if ref is None:
        if needed:
            problems.append(f"{path}: {key}: required when the channel is enabled "
                            f"(set {key.rsplit('.', 1)[1]}_env or {key.rsplit('.', 1)[1]}_file)")
        return None
    try:
        return ref.resolve(base, env)
    except ValueError as exc:
        if needed:
            problems.append(f"{path}: {key}: {exc}")
        return None


@dataclass(frozen=True)
class _Reading:
    """One reading of monitor.toml: where it is, its parsed values, the problems so far."""

    path: Path
    base: Path
    data: Mapping[str, Any]
    values: dict[str, Any]
    problems: list[str]
    env: Mapping[str, str]
    secrets: bool


def _section(cls: type[_T], prefix: str, v: Mapping[str, Any], **given: Any) -> _T:
    """A settings dataclass filled from the table's values `<prefix>.<field>` (and `given`)."""
    names = [f.name for f in fields(cls) if f.name not in given]  # type: ignore[arg-type]
    return cls(**{n: v[f"{prefix}.{n}"] for n in names if f"{prefix}.{n}" in v}, **given)


def _sources_and_topics(r: _Reading, polling: PollingSettings,
                        ) -> tuple[tuple[SourceConfig, ...], TopicsConfig, tuple[str, ...]]:
    v, topics = r.values, TopicsConfig()
    sources: tuple[SourceConfig, ...] = ()
    if v["files.sources"]:
        sources = load_sources(r.base / v["files.sources"], polling.interval or 900.0,
                               polling.min_interval or 0.0, r.problems)
    names = topics.names()
    if v["files.topics"]:
        before = len(r.problems)
        topics = load_topics(r.base / v["files.topics"], r.problems)
        names = topics.names() if len(r.problems) == before else \
            tuple(declared_topics(r.base / v["files.topics"]))
    return tuple(sources), topics, names


def _channel(r: _Reading, spec: ChannelSpec) -> tuple[ChannelPolicy, Any]:
    """One channel's policy and options, from its rows in the table and its secrets."""
    v, name = r.values, spec.name
    on = bool(v[f"alerts.{name}.enabled"])
    values = spec.values(v)
    resolve = _resolve_secret if r.secrets else _no_secret
    found = {s.key: resolve(v[f"alerts.{name}.{s.key}"], f"alerts.{name}.{s.key}",
                            on and s.required(values), r.base, r.env, r.path, r.problems)
             for s in spec.secrets}
    if on:
        r.problems.extend(f"{r.path}: alerts.{name}.{p}" for p in spec.check(values, found))
    policy = ChannelPolicy(name, on, v[f"alerts.{name}.mode"],
                           v[f"alerts.{name}.digest_every"], v[f"alerts.{name}.flood_max"],
                           v[f"alerts.{name}.flood_window"])
    return policy, spec.configure(values, found, r.base)


def _alerts(r: _Reading, sources: tuple[SourceConfig, ...],
            topic_names: tuple[str, ...]) -> AlertSettings:
    channels, options = {}, {}
    for name, spec in REGISTRY.items():
        channels[name], options[name] = _channel(r, spec)
    raw = r.data.get("alerts")
    rules = load_rules(raw.get("rule") if isinstance(raw, dict) else None, r.path, r.problems,
                       topic_names, {s.id for s in sources}, tuple(REGISTRY))
    if any(p.enabled for p in channels.values()) and not rules:
        r.problems.append(f"{r.path}: alerts.rule: channels are enabled but no [[alerts.rule]] "
                          f"sends anything to them")
    unknown = [c for c in r.values["health.operator_channels"] or () if c not in REGISTRY]
    if unknown:
        r.problems.append(f"{r.path}: health.operator_channels: unknown channel "
                          f"{', '.join(map(repr, unknown))}")
    return _section(AlertSettings, "alerts", r.values, channels=channels, options=options,
                    rules=rules, story_base_url=r.values["web.base_url"] or "")


def load_settings(path: Path, env: Mapping[str, str] | None = None, *,
                  secrets: bool = True) -> Settings:
    """Read and validate monitor.toml and the files it names. Raises ConfigError (all problems).
    With `secrets=False` (the commands that only read the database) no secret is resolved:
    every channel secret is None and an unset variable or credential file is no problem."""
    problems: list[str] = []
    path = Path(path)
    data = read_toml(path, problems)
    if problems:
        raise ConfigError(problems)
    r = _Reading(path, path.resolve().parent, data, _read_monitor_toml(path, data, problems),
                 problems, os.environ if env is None else env, secrets)
    v = r.values
    polling = _section(PollingSettings, "polling", v)
    sources, topics, topic_names = _sources_and_topics(r, polling)
    alerts = _alerts(r, sources, topic_names)
    if problems:
        raise ConfigError(problems)
    db_path = Path(v["database.path"])
    return Settings(
        config_path=path, polling=polling, alerts=alerts, sources=sources, topics=topics,
        database=_section(DatabaseSettings, "database", v,
                          path=db_path if db_path.is_absolute() else r.base / db_path),
        fetch=_section(FetchSettings, "fetch", v),
        extraction=_section(ExtractionSettings, "extraction", v),
        dedup=_section(DedupSettings, "dedup", v), health=_section(HealthSettings, "health", v),
        web=_section(WebSettings, "web", v), metrics=_section(MetricsSettings, "metrics", v))
