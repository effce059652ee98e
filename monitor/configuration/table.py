"""The settings table of monitor.toml: every key with its default, its help text and its
validator, one row each (the channels' own rows are declared by each channel module and joined
to these by `monitor.configuration.settings`). Validators are pure functions that return the
parsed value or raise ValueError with a message for the user."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.configuration.secrets import parse_secret_ref
from monitor.configuration.units import parse_duration, parse_size

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Setting:
    key: str  # dotted path in monitor.toml
    default: Any
    help: str
    parse: Callable[[Any], Any]


def positive_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"expected a whole number >= 1, got {v!r}")
    return v


def non_negative_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    return v


def string(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"expected a non-empty string, got {v!r}")
    return v


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def fraction(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise ValueError(f"expected a number between 0 and 1, got {v!r}")
    return float(v)


def positive_duration(v: Any) -> float:
    seconds = parse_duration(v)
    if seconds <= 0:
        raise ValueError("expected a duration above zero")
    return seconds


def mode(v: Any) -> str:
    if v not in ("immediate", "digest"):
        raise ValueError(f"expected 'immediate' or 'digest', got {v!r}")
    return str(v)


def positive_number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
        raise ValueError(f"expected a number above zero, got {v!r}")
    return float(v)


def name_list(v: Any) -> tuple[str, ...]:
    """Channel names (checked against the channel registry by the settings loader)."""
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of names")
    return tuple(v)


def addresses(v: Any) -> tuple[str, ...]:
    """`to = "a@example.org"` or `to = ["a@example.org", "b@example.org"]`."""
    if isinstance(v, str):
        return (string(v),)
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise ValueError('expected an address or a list of addresses, e.g. ["desk@example.org"]')
    return tuple(v)


def duration_list(v: Any) -> tuple[float, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of durations such as ['1h', '6h']")
    return tuple(sorted(positive_duration(x) for x in v))


def int_list(v: Any) -> tuple[int, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of whole numbers")
    return tuple(sorted({positive_int(x) for x in v}))


def non_negative_duration(v: Any) -> float:
    seconds = parse_duration(v)
    if seconds < 0:
        raise ValueError("expected a duration of zero or more")
    return seconds


def proxy(v: Any) -> str:
    if not isinstance(v, str) or (v and not v.startswith(("http://", "https://"))):
        raise ValueError("expected an http(s) proxy URL or an empty string")
    return v


def base_url(v: Any) -> str:
    if not isinstance(v, str) or (v and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", v)):
        raise ValueError("expected an http(s) address such as https://monitor.example.org/")
    return v.rstrip("/")


def networks(v: Any) -> tuple[Network, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of address ranges such as ['127.0.0.0/8']")
    try:
        return tuple(ipaddress.ip_network(str(x), strict=False) for x in v)
    except ValueError as exc:
        raise ValueError(f"not an address range: {exc}") from None


def text(v: Any) -> str:
    """Any string, the empty one included."""
    return v if isinstance(v, str) else string(v)


CORE: tuple[Setting, ...] = (
    Setting("database.path", "feed-monitor.db", "SQLite file (relative to this file's folder)", string),
    Setting("database.busy_timeout", "5s", "how long a write waits for a lock held by another connection", parse_duration),
    Setting("database.raw_html_retention", "30d", "how long compressed raw article HTML is kept for re-extraction (0 keeps none)", parse_duration),
    Setting("files.sources", "sources.toml", "the outlets file (relative to this file's folder)", string),
    Setting("files.topics", "topics.toml", "the topics and gate file (relative to this file's folder)", string),
    Setting("polling.interval", "15m", "default poll interval of a source that sets none", positive_duration),
    Setting("polling.min_interval", "2m", "no source is polled more often than this", positive_duration),
    Setting("polling.max_interval", "6h", "no source waits longer than this between polls (quiet feeds are polled less often, up to it)", positive_duration),
    Setting("polling.tick", "2s", "how often the daemon looks for due sources", positive_duration),
    Setting("polling.concurrency", 64, "sources polled at the same time (per-host limits still apply)", positive_int),
    Setting("polling.article_concurrency", 8, "article pages fetched at the same time within one source run", positive_int),
    Setting("polling.max_entries_per_run", 100, "new entries handled per source run; the rest wait for the next run", positive_int),
    Setting("polling.jitter", 0.1, "random spread added to each next check, as a fraction of the interval", fraction),
    Setting("polling.error_backoff_base", "1m", "first retry delay after an error; doubles with each consecutive error", positive_duration),
    Setting("polling.error_backoff_cap", "6h", "longest retry delay after repeated errors", positive_duration),
    Setting("fetch.contact_url", "https://github.com/feed-monitor/feed-monitor", "contact URL named in the User-Agent", string),
    Setting("fetch.user_agent", "feed-monitor/0.1", "product token of the User-Agent; the contact URL is appended", string),
    Setting("fetch.connect_timeout", "10s", "TCP/TLS connect timeout", positive_duration),
    Setting("fetch.read_timeout", "20s", "longest wait for any single read", positive_duration),
    Setting("fetch.deadline", "60s", "total deadline of one fetch, redirects and body included", positive_duration),
    Setting("fetch.max_wire_bytes", "10MiB", "largest body accepted on the wire", parse_size),
    Setting("fetch.max_decoded_bytes", "20MiB", "largest body after decompression", parse_size),
    Setting("fetch.max_redirects", 5, "redirect hops followed", non_negative_int),
    Setting("fetch.per_host_concurrency", 2, "requests in flight to one host name", positive_int),
    Setting("fetch.allow_networks", [], "address ranges exempt from the private-address guard (e.g. ['127.0.0.0/8'] for a local simulator)", networks),
    Setting("fetch.host_spacing", "250ms", "least time between the starts of two requests to one host name", non_negative_duration),
    Setting("fetch.proxy", "", "an http(s) proxy for every source (a source's own `proxy` wins); the address guard then vets only the proxy", proxy),
    Setting("extraction.workers", 2, "extraction/parsing worker processes", positive_int),
    Setting("extraction.timeout", "20s", "hard timeout of one extraction; the worker is killed after it", positive_duration),
    Setting("extraction.parse_timeout", "15s", "hard timeout of parsing one feed or listing page", positive_duration),
    Setting("extraction.max_html_bytes", "5MiB", "pages larger than this are not given to the extractor", parse_size),
    Setting("extraction.max_elements", 60000, "pages with more HTML tags than this are not given to the extractor", positive_int),
    Setting("extraction.recycle_after", 500, "a worker process is replaced after this many tasks", positive_int),
    Setting("database.fetch_log_retention", "30d", "rows of the fetch log older than this are deleted by maintenance", positive_duration),
    Setting("health.failing_after", 5, "consecutive errors after which a source counts as failing (one operator alert, one more on recovery)", positive_int),
    Setting("health.silent_factor", 4.0, "a source is silent when nothing new came for this many times its usual gap between new items", positive_number),
    Setting("health.min_history", 5, "new items a source needs in 30 days before silence is judged", positive_int),
    Setting("health.heartbeat_stale", "2m", "monitor status calls the daemon down when its heartbeat is older than this", positive_duration),
    Setting("health.expect_daemon", True, "monitor status is unhealthy when the daemon is not running; false where none runs (the demo, a database filled by monitor once)", boolean),
    Setting("health.operator_channels", [], "channels for operator alerts (failing/silent sources); empty: every enabled channel", name_list),
    Setting("dedup.window", "14d", "a new item is compared only with stories first seen within this window", positive_duration),
    Setting("dedup.boilerplate_min_items", 3, "a paragraph found in this many items of one outlet is its boilerplate and ignored by dedup", positive_int),
    Setting("alerts.max_age", "24h", "items published longer ago than this never alert (catch-up after an outage included)", positive_duration),
    Setting("alerts.rollups", [5, 10], "a story that alerted alerts again once when carried by this many outlets (per threshold)", int_list),
    Setting("alerts.revisits", ["1h", "6h", "24h"], "after a story alerts, its article is fetched again at these times: changes become versions, deletions are recorded", duration_list),
    Setting("alerts.dispatch_every", "2s", "how often the daemon sends due alerts", positive_duration),
    Setting("alerts.max_attempts", 8, "a transient failure is retried this many times, then the alert is failed", positive_int),
    Setting("alerts.retry_base", "30s", "first retry delay of a failed send; doubles each time (Retry-After honoured)", positive_duration),
    Setting("alerts.retry_cap", "1h", "longest retry delay of a failed send", positive_duration),
    Setting("alerts.timeout", "20s", "time limit of one send to a channel", positive_duration),
    Setting("web.base_url", "", "public address of `monitor web` (e.g. https://monitor.example.org/); when set, every alert links to its story page", base_url),
    Setting("web.host", "127.0.0.1", "address `monitor web` listens on; any non-loopback address needs web.token", string),
    Setting("web.port", 8002, "port of `monitor web`", positive_int),
    Setting("web.token", None, "access token of `monitor web` (the password of HTTP Basic, or a Bearer token): token_env = 'VAR' or token_file = 'path'", parse_secret_ref),
    Setting("web.datasette_url", "http://127.0.0.1:8001/", "where `monitor serve` (Datasette) is reached, linked from the reader", string),
    Setting("metrics.enabled", False, "serve Prometheus metrics from `monitor run` (polls, articles, extraction time, alert queue, source health)", boolean),
    Setting("metrics.host", "127.0.0.1", "address the metrics endpoint listens on (loopback: only this machine can scrape it)", string),
    Setting("metrics.port", 9108, "port of the metrics endpoint (http://HOST:PORT/metrics)", positive_int),
)


def policy_rows(name: str, enabled_help: str) -> tuple[Setting, ...]:
    """The rows every alert channel has: whether it is on, and its sending policy."""
    return (
        Setting(f"alerts.{name}.enabled", False, enabled_help, boolean),
        Setting(f"alerts.{name}.mode", "immediate", "immediate: one message per story; digest: one message every digest_every", mode),
        Setting(f"alerts.{name}.digest_every", "1h", "digest interval (digest mode, and during a flood)", positive_duration),
        Setting(f"alerts.{name}.flood_max", 20, "more alerts than this within flood_window: new stories go out grouped, at most a minute late; roll-ups wait for one digest per window", positive_int),
        Setting(f"alerts.{name}.flood_window", "10m", "the window of the flood guard", positive_duration),
    )
