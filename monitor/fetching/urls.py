"""URL rules — pure functions: which links we accept and their canonical form.

`canonical_url` is part of an item's identity, so its rules are documented here and versioned
through the tests: scheme and host lower-cased, default ports and fragments dropped, tracking
parameters removed (utm_*, fbclid, gclid, ...), remaining query parameters sorted, an empty path
made "/", a trailing "/amp" or "amp/" segment and `?amp=1` / `outputType=amp` removed (AMP pages
map to their article), "index.html" kept (outlets differ too much to guess).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from monitor.fetching.urlcheck import MAX_URL, url_problem

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
        "yclid", "_hsenc", "_hsmi", "ref", "ref_src", "ref_url", "cmpid", "ocid", "at_medium",
        "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "xtor", "ito",
        "spm", "amp", "outputtype", "smid", "taid", "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_")
_AMP_PATH = re.compile(r"/amp/?$|/amp(?=/)", re.IGNORECASE)


def is_http_url(url: str | None) -> bool:
    """True for absolute http(s) URLs with a usable host; rejects javascript:, data:, file:,
    control characters, invalid host names (see `monitor.fetching.urlcheck`)."""
    if not url:
        return False
    return url_problem(url.strip()) is None


def absolutize(link: str | None, base: str) -> str | None:
    """Resolve ``link`` against ``base``; None unless the result is an http(s) URL."""
    if not link:
        return None
    try:
        url = urljoin(base, link.strip())
    except ValueError:
        return None
    return url if is_http_url(url) else None


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL (see the module docstring). Raises ValueError.
    Remembered for the last thousand URLs (of at most `MAX_URL` characters): a run asks for
    an entry's link more than once (its identity, its feed hash)."""
    if len(url) > MAX_URL:
        return _canonical_url(url)
    return _remembered_canonical(url)


def _canonical_url(url: str) -> str:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else (
        f"{host}:{port}"
    )
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" + netloc[len(host):]
    path = _AMP_PATH.sub("", parts.path) or "/"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    # scheme is folded to https so that http/https twins of one article share an identity
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


_remembered_canonical = functools.lru_cache(maxsize=1024)(_canonical_url)


def host_of(url: str) -> str:
    """Lower-case host name of a URL ('' when there is none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def site_of(url: str) -> str:
    """The host without a leading 'www.' — used as an outlet name for aggregator items."""
    host = host_of(url)
    return host[4:] if host.startswith("www.") else host
