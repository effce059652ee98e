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

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.alerts.rules import AlertRule, ChannelPolicy, load_rules
from monitor.configuration.lines import declared_topics
from monitor.configuration.secrets import Secret, SecretRef, parse_secret_ref
from monitor.configuration.sources import (
    SourceConfig,
    load_sources,
    load_topics,
    read_toml,
)
from monitor.configuration.units import parse_duration, parse_size
from monitor.errors import ConfigError
from monitor.fetching.urlcheck import url_problem
from monitor.matching.topics import TopicsConfig

CONFIG_ENV = "FEED_MONITOR_CONFIG"
SEARCH_PATHS = (Path("config/monitor.toml"), Path("/etc/feed-monitor/monitor.toml"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Setting:
    key: str  # dotted path in monitor.toml
    default: Any
    help: str
    parse: Callable[[Any], Any]


def _positive_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"expected a whole number >= 1, got {v!r}")
    return v


def _non_negative_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    return v


def _string(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"expected a non-empty string, got {v!r}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def _fraction(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise ValueError(f"expected a number between 0 and 1, got {v!r}")
    return float(v)


def _positive_duration(v: Any) -> float:
    seconds = parse_duration(v)
    if seconds <= 0:
        raise ValueError("expected a duration above zero")
    return seconds


CHANNELS = ("console", "email", "slack", "webhook")


def _mode(v: Any) -> str:
    if v not in ("immediate", "digest"):
        raise ValueError(f"expected 'immediate' or 'digest', got {v!r}")
    return str(v)


def _positive_number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
        raise ValueError(f"expected a number above zero, got {v!r}")
    return float(v)


def _name_list(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of names")
    unknown = [x for x in v if x not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel {', '.join(map(repr, unknown))}")
    return tuple(v)


def _addresses(v: Any) -> tuple[str, ...]:
    """`to = "a@example.org"` or `to = ["a@example.org", "b@example.org"]`."""
    if isinstance(v, str):
        return (_string(v),)
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise ValueError('expected an address or a list of addresses, e.g. ["desk@example.org"]')
    return tuple(v)


def _duration_list(v: Any) -> tuple[float, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of durations such as ['1h', '6h']")
    return tuple(sorted(_positive_duration(x) for x in v))


def _int_list(v: Any) -> tuple[int, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of whole numbers")
    return tuple(sorted({_positive_int(x) for x in v}))


def _non_negative_duration(v: Any) -> float:
    seconds = parse_duration(v)
    if seconds < 0:
        raise ValueError("expected a duration of zero or more")
    return seconds


def _proxy(v: Any) -> str:
    if not isinstance(v, str) or (v and not v.startswith(("http://", "https://"))):
        raise ValueError("expected an http(s) proxy URL or an empty string")
    return v


def _base_url(v: Any) -> str:
    if not isinstance(v, str) or (v and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", v)):
        raise ValueError("expected an http(s) address such as https://monitor.example.org/")
    return v.rstrip("/")


def _networks(v: Any) -> tuple[Network, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of address ranges such as ['127.0.0.0/8']")
    try:
        return tuple(ipaddress.ip_network(str(x), strict=False) for x in v)
    except ValueError as exc:
        raise ValueError(f"not an address range: {exc}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting("database.path", "feed-monitor.db", "SQLite file (relative to this file's folder)", _string),
    Setting("database.busy_timeout", "5s", "how long a write waits for a lock held by another connection", parse_duration),
    Setting("database.raw_html_retention", "30d", "how long compressed raw article HTML is kept for re-extraction (0 keeps none)", parse_duration),
    Setting("files.sources", "sources.toml", "the outlets file (relative to this file's folder)", _string),
    Setting("files.topics", "topics.toml", "the topics and gate file (relative to this file's folder)", _string),
    Setting("polling.interval", "15m", "default poll interval of a source that sets none", _positive_duration),
    Setting("polling.min_interval", "2m", "no source is polled more often than this", _positive_duration),
    Setting("polling.max_interval", "6h", "no source waits longer than this between polls (quiet feeds are polled less often, up to it)", _positive_duration),
    Setting("polling.tick", "2s", "how often the daemon looks for due sources", _positive_duration),
    Setting("polling.concurrency", 64, "sources polled at the same time (per-host limits still apply)", _positive_int),
    Setting("polling.article_concurrency", 8, "article pages fetched at the same time within one source run", _positive_int),
    Setting("polling.max_entries_per_run", 100, "new entries handled per source run; the rest wait for the next run", _positive_int),
    Setting("polling.jitter", 0.1, "random spread added to each next check, as a fraction of the interval", _fraction),
    Setting("polling.error_backoff_base", "1m", "first retry delay after an error; doubles with each consecutive error", _positive_duration),
    Setting("polling.error_backoff_cap", "6h", "longest retry delay after repeated errors", _positive_duration),
    Setting("fetch.contact_url", "https://github.com/feed-monitor/feed-monitor", "contact URL named in the User-Agent", _string),
    Setting("fetch.user_agent", "feed-monitor/0.1", "product token of the User-Agent; the contact URL is appended", _string),
    Setting("fetch.connect_timeout", "10s", "TCP/TLS connect timeout", _positive_duration),
    Setting("fetch.read_timeout", "20s", "longest wait for any single read", _positive_duration),
    Setting("fetch.deadline", "60s", "total deadline of one fetch, redirects and body included", _positive_duration),
    Setting("fetch.max_wire_bytes", "10MiB", "largest body accepted on the wire", parse_size),
    Setting("fetch.max_decoded_bytes", "20MiB", "largest body after decompression", parse_size),
    Setting("fetch.max_redirects", 5, "redirect hops followed", _non_negative_int),
    Setting("fetch.per_host_concurrency", 2, "requests in flight to one host name", _positive_int),
    Setting("fetch.allow_networks", [], "address ranges exempt from the private-address guard (e.g. ['127.0.0.0/8'] for a local simulator)", _networks),
    Setting("fetch.host_spacing", "250ms", "least time between the starts of two requests to one host name", _non_negative_duration),
    Setting("fetch.proxy", "", "an http(s) proxy for every source (a source's own `proxy` wins); the address guard then vets only the proxy", _proxy),
    Setting("extraction.workers", 2, "extraction/parsing worker processes", _positive_int),
    Setting("extraction.timeout", "20s", "hard timeout of one extraction; the worker is killed after it", _positive_duration),
    Setting("extraction.parse_timeout", "15s", "hard timeout of parsing one feed or listing page", _positive_duration),
    Setting("extraction.max_html_bytes", "5MiB", "pages larger than this are not given to the extractor", parse_size),
    Setting("extraction.max_elements", 60000, "pages with more HTML tags than this are not given to the extractor", _positive_int),
    Setting("extraction.recycle_after", 500, "a worker process is replaced after this many tasks", _positive_int),
    Setting("database.fetch_log_retention", "30d", "rows of the fetch log older than this are deleted by maintenance", _positive_duration),
    Setting("health.failing_after", 5, "consecutive errors after which a source counts as failing (one operator alert, one more on recovery)", _positive_int),
    Setting("health.silent_factor", 4.0, "a source is silent when nothing new came for this many times its usual gap between new items", _positive_number),
    Setting("health.min_history", 5, "new items a source needs in 30 days before silence is judged", _positive_int),
    Setting("health.heartbeat_stale", "2m", "monitor status calls the daemon down when its heartbeat is older than this", _positive_duration),
    Setting("health.expect_daemon", True, "monitor status is unhealthy when the daemon is not running; false where none runs (the demo, a database filled by monitor once)", _bool),
    Setting("health.operator_channels", [], "channels for operator alerts (failing/silent sources); empty: every enabled channel", _name_list),
    Setting("dedup.window", "14d", "a new item is compared only with stories first seen within this window", _positive_duration),
    Setting("dedup.boilerplate_min_items", 3, "a paragraph found in this many items of one outlet is its boilerplate and ignored by dedup", _positive_int),
    Setting("alerts.console.enabled", False, "print alerts on standard output", _bool),
    Setting("alerts.email.enabled", False, "send alerts by email", _bool),
    Setting("alerts.email.host", "localhost", "SMTP server", _string),
    Setting("alerts.email.port", 587, "SMTP port (587 STARTTLS, 465 implicit TLS)", _positive_int),
    Setting("alerts.email.security", "starttls", "starttls | tls (implicit) | none (only without credentials)", _string),
    Setting("alerts.email.from", "feed-monitor@localhost", "sender address", _string),
    Setting("alerts.email.to", [], "recipient addresses", _addresses),
    Setting("alerts.email.username", "", "SMTP user name (empty: no login)", lambda v: v if isinstance(v, str) else _string(v)),
    Setting("alerts.email.password", None, "SMTP password: password_env = 'VAR' or password_file = 'path'", parse_secret_ref),
    Setting("alerts.slack.enabled", False, "post alerts to a Slack incoming webhook", _bool),
    Setting("alerts.slack.webhook_url", None, "the webhook URL: webhook_url_env = 'VAR' or webhook_url_file = 'path'", parse_secret_ref),
    Setting("alerts.webhook.enabled", False, "POST alerts as JSON to a URL", _bool),
    Setting("alerts.webhook.url", None, "the URL: url_env = 'VAR' or url_file = 'path'", parse_secret_ref),
    Setting("alerts.email.ca_file", "", "extra CA certificates (PEM) to trust for the SMTP server; empty: the system's", lambda v: v if isinstance(v, str) else _string(v)),
    Setting("alerts.max_age", "24h", "items published longer ago than this never alert (catch-up after an outage included)", _positive_duration),
    Setting("alerts.rollups", [5, 10], "a story that alerted alerts again once when carried by this many outlets (per threshold)", _int_list),
    Setting("alerts.revisits", ["1h", "6h", "24h"], "after a story alerts, its article is fetched again at these times: changes become versions, deletions are recorded", _duration_list),
    Setting("alerts.dispatch_every", "2s", "how often the daemon sends due alerts", _positive_duration),
    Setting("alerts.max_attempts", 8, "a transient failure is retried this many times, then the alert is failed", _positive_int),
    Setting("alerts.retry_base", "30s", "first retry delay of a failed send; doubles each time (Retry-After honoured)", _positive_duration),
    Setting("alerts.retry_cap", "1h", "longest retry delay of a failed send", _positive_duration),
    Setting("alerts.timeout", "20s", "time limit of one send to a channel", _positive_duration),
    Setting("web.base_url", "", "public address of `monitor web` (e.g. https://monitor.example.org/); when set, every alert links to its story page", _base_url),
    Setting("web.host", "127.0.0.1", "address `monitor web` listens on; any non-loopback address needs web.token", _string),
    Setting("web.port", 8002, "port of `monitor web`", _positive_int),
    Setting("web.token", None, "access token of `monitor web` (the password of HTTP Basic, or a Bearer token): token_env = 'VAR' or token_file = 'path'", parse_secret_ref),
    Setting("web.datasette_url", "http://127.0.0.1:8001/", "where `monitor serve` (Datasette) is reached, linked from the reader", _string),
    *(s for channel in CHANNELS for s in (
        Setting(f"alerts.{channel}.mode", "immediate", "immediate: one message per story; digest: one message every digest_every", _mode),
        Setting(f"alerts.{channel}.digest_every", "1h", "digest interval (digest mode, and during a flood)", _positive_duration),
        Setting(f"alerts.{channel}.flood_max", 20, "more alerts than this within flood_window: new stories go out grouped, at most a minute late; roll-ups wait for one digest per window", _positive_int),
        Setting(f"alerts.{channel}.flood_window", "10m", "the window of the flood guard", _positive_duration),
    )),
)
SECRET_KEYS = frozenset(s.key for s in SETTINGS if s.parse is parse_secret_ref)


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path
    busy_timeout: float
    raw_html_retention: float
    fetch_log_retention: float = 30 * 86400.0


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
    host_spacing: float = 0.0
    proxy: str = ""

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
class EmailSettings:
    enabled: bool
    host: str
    port: int
    security: str
    sender: str
    to: tuple[str, ...]
    username: str
    password: Secret | None
    ca_file: Path | None = None


@dataclass(frozen=True)
class AlertSettings:
    console: bool
    email: EmailSettings
    slack_enabled: bool
    slack_webhook_url: Secret | None
    webhook_enabled: bool
    webhook_url: Secret | None
    channels: dict[str, ChannelPolicy] = field(default_factory=dict)
    rules: tuple[AlertRule, ...] = ()
    max_age: float = 86400.0
    rollups: tuple[int, ...] = (5, 10)
    revisits: tuple[float, ...] = (3600.0, 21600.0, 86400.0)
    dispatch_every: float = 2.0
    max_attempts: int = 8
    retry_base: float = 30.0
    retry_cap: float = 3600.0
    timeout: float = 20.0
    story_base_url: str = ""  # web.base_url: alerts link to {story_base_url}/stories/{id}

    def enabled_channels(self) -> list[str]:
        return [name for name, policy in self.channels.items() if policy.enabled]


@dataclass(frozen=True)
class HealthSettings:
    failing_after: int
    silent_factor: float
    min_history: int
    heartbeat_stale: float
    operator_channels: tuple[str, ...]
    expect_daemon: bool = True


@dataclass(frozen=True)
class DedupSettings:
    window: float
    boilerplate_min_items: int


@dataclass(frozen=True)
class WebSettings:
    base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8002
    token: SecretRef | None = None  # resolved by `monitor web` only, never by the daemon
    datasette_url: str = "http://127.0.0.1:8001/"


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
    web: WebSettings = field(default_factory=WebSettings)

    def source(self, source_id: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.id == source_id), None)


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


def channel_url_problems(path: Path, alerts: AlertSettings) -> list[str]:
    """Slack and webhook URLs must be fetchable http(s) URLs (no invisible or control character
    in the host, valid IDNA...): refused here rather than at the first alert. The message
    gives the reason, never the URL (it is a secret)."""
    out = []
    for key, on, secret in (("alerts.slack.webhook_url", alerts.slack_enabled,
                             alerts.slack_webhook_url),
                            ("alerts.webhook.url", alerts.webhook_enabled, alerts.webhook_url)):
        problem = url_problem(secret.reveal()) if on and secret is not None else None
        if problem:
            out.append(f"{path}: {key}: not a usable URL: {problem}")
    return out


def load_settings(path: Path, env: Mapping[str, str] | None = None, *,
                  secrets: bool = True) -> Settings:
    """Read and validate monitor.toml and the files it names. Raises ConfigError (all problems).
    With `secrets=False` (the commands that only read the database) no secret is resolved:
    every channel secret is None and an unset variable or credential file is no problem."""
    env = os.environ if env is None else env
    _resolve = _resolve_secret if secrets else _no_secret
    problems: list[str] = []
    path = Path(path)
    data = read_toml(path, problems)
    if problems:
        raise ConfigError(problems)
    base = path.resolve().parent
    v = _read_monitor_toml(path, data, problems)

    polling = PollingSettings(**{k: v[f"polling.{k}"]
                                 for k in PollingSettings.__dataclass_fields__})
    sources: tuple[SourceConfig, ...] = ()
    topics = TopicsConfig()
    if v["files.sources"]:
        sources = load_sources(base / v["files.sources"], polling.interval or 900.0,
                               polling.min_interval or 0.0, problems)
    topic_names = topics.names()
    if v["files.topics"]:
        before = len(problems)
        topics = load_topics(base / v["files.topics"], problems)
        topic_names = topics.names() if len(problems) == before else \
            tuple(declared_topics(base / v["files.topics"]))

    email_on = bool(v["alerts.email.enabled"])
    email = EmailSettings(
        enabled=email_on, host=v["alerts.email.host"], port=v["alerts.email.port"],
        security=v["alerts.email.security"], sender=v["alerts.email.from"],
        to=v["alerts.email.to"] or (), username=v["alerts.email.username"] or "",
        password=_resolve(v["alerts.email.password"], "alerts.email.password",
                          email_on and bool(v["alerts.email.username"]), base, env, path, problems),
        ca_file=(base / v["alerts.email.ca_file"]) if v["alerts.email.ca_file"] else None,
    )
    if email.security not in ("starttls", "tls", "none"):
        problems.append(f"{path}: alerts.email.security: expected starttls, tls or none")
    elif email.security == "none" and email.username:
        problems.append(f"{path}: alerts.email.security: 'none' would send the password in clear")
    if email_on and not email.to:
        problems.append(f"{path}: alerts.email.to: at least one recipient is required")
    enabled = {"console": bool(v["alerts.console.enabled"]), "email": email_on,
               "slack": bool(v["alerts.slack.enabled"]), "webhook": bool(v["alerts.webhook.enabled"])}
    channels = {c: ChannelPolicy(c, enabled[c], v[f"alerts.{c}.mode"] or "immediate",
                                 v[f"alerts.{c}.digest_every"] or 3600.0,
                                 v[f"alerts.{c}.flood_max"] or 20,
                                 v[f"alerts.{c}.flood_window"] or 600.0) for c in CHANNELS}
    rules = load_rules(data.get("alerts", {}).get("rule") if isinstance(data.get("alerts"), dict)
                       else None, path, problems, topic_names, {s.id for s in sources},
                       CHANNELS)
    if any(enabled.values()) and not rules:
        problems.append(f"{path}: alerts.rule: channels are enabled but no [[alerts.rule]] "
                        f"sends anything to them")
    alerts = AlertSettings(
        console=bool(v["alerts.console.enabled"]),
        email=email,
        slack_enabled=bool(v["alerts.slack.enabled"]),
        slack_webhook_url=_resolve(v["alerts.slack.webhook_url"], "alerts.slack.webhook_url",
                                   bool(v["alerts.slack.enabled"]), base, env, path, problems),
        webhook_enabled=bool(v["alerts.webhook.enabled"]),
        webhook_url=_resolve(v["alerts.webhook.url"], "alerts.webhook.url",
                             bool(v["alerts.webhook.enabled"]), base, env, path, problems),
        channels=channels, rules=rules, max_age=v["alerts.max_age"] or 86400.0,
        rollups=v["alerts.rollups"] or (), revisits=v["alerts.revisits"] or (),
        dispatch_every=v["alerts.dispatch_every"] or 2.0,
        max_attempts=v["alerts.max_attempts"] or 8, retry_base=v["alerts.retry_base"] or 30.0,
        retry_cap=v["alerts.retry_cap"] or 3600.0, timeout=v["alerts.timeout"] or 20.0,
        story_base_url=v["web.base_url"] or "",
    )
    problems += channel_url_problems(path, alerts)
    if problems:
        raise ConfigError(problems)

    db_path = Path(v["database.path"])
    return Settings(
        config_path=path,
        database=DatabaseSettings(
            path=db_path if db_path.is_absolute() else base / db_path,
            busy_timeout=v["database.busy_timeout"],
            raw_html_retention=v["database.raw_html_retention"],
            fetch_log_retention=v["database.fetch_log_retention"],
        ),
        polling=polling,
        fetch=FetchSettings(**{k: v[f"fetch.{k}"] for k in FetchSettings.__dataclass_fields__}),
        extraction=ExtractionSettings(
            **{k: v[f"extraction.{k}"] for k in ExtractionSettings.__dataclass_fields__}
        ),
        dedup=DedupSettings(**{k: v[f"dedup.{k}"] for k in DedupSettings.__dataclass_fields__}),
        health=HealthSettings(**{k: v[f"health.{k}"] for k in HealthSettings.__dataclass_fields__}),
        alerts=alerts,
        sources=sources,
        topics=topics,
        web=WebSettings(**{k: v[f"web.{k}"] for k in WebSettings.__dataclass_fields__}),
    )
