"""Whether a URL can be fetched at all: the one strict check before any request is made.

`url_problem` answers with a one-line reason (safe to store: it never quotes the URL) or None.
It refuses what the HTTP stack would otherwise throw in the middle of a run: control characters
anywhere (a ZWNJ in a Persian path is fine: it is percent-encoded), invisible or space characters
in the host, unparsable authorities and ports, host names that are
not valid DNS names or IDNA (``xn--zz.invalid``), labels over 63 bytes, names over 253 bytes,
malformed IP literals. A feed's article link that fails it is skipped with that reason; a
source URL fails `check-config`; a redirect target fails its fetch (`InvalidURL`).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

import idna

MAX_URL = 4096
_ASCII_HOST = re.compile(r"[A-Za-z0-9_.-]+")
_DOTTED_NUMBERS = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})  # control, format (invisible), surrogate
# the same tests for an ASCII string, without a category lookup per character: the only ASCII
# characters in those categories are the controls (Cc: U+0000-U+001F, U+007F), and the only
# other ASCII space is the space itself (tests/test_urls_dates.py compares both over all 128)
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def _has_control(text: str) -> bool:
    """Whether `text` holds a control character or a surrogate (categories Cc, Cs)."""
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def _has_invisible(host: str) -> bool:
    """Whether `host` holds a control, format (invisible), private-use, surrogate or space
    character."""
    if host.isascii():
        return _ASCII_CONTROL_OR_SPACE.search(host) is not None
    return any(unicodedata.category(c) in _BAD_CATEGORIES or c.isspace() for c in host)


def host_problem(host: str) -> str | None:
    """Why `host` (as `urlsplit(...).hostname` gives it) is not a usable host name."""
    if _has_invisible(host):
        return "host name contains a control, space or invisible character"
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return "malformed IPv6 address"
        return None
    if _DOTTED_NUMBERS.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "malformed IPv4 address"
        return None
    ascii_name = host
    if not host.isascii():
        try:
            ascii_name = idna.encode(host.lower(), uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return "host name is not valid IDNA"
    if not _ASCII_HOST.fullmatch(ascii_name):
        return "host name contains characters a DNS name cannot hold"
    return _labels_problem(ascii_name)


def _labels_problem(name: str) -> str | None:
    bare = name[:-1] if name.endswith(".") else name
    if len(bare) > 253:
        return "host name longer than 253 characters"
    for label in bare.split("."):
        if not 0 < len(label) <= 63:
            return "host name with an empty label or one over 63 characters"
        if label.lower().startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                return "host name is not valid IDNA"
    return None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched (one line, no part of the URL quoted), or None if it can.
    The answers for the last thousand URLs (of at most `MAX_URL` characters) are remembered:
    one article's link is checked by the plan, the feed hash, the fetch and its canonical
    form, each on its own."""
    if len(url) > MAX_URL:
        return f"URL longer than {MAX_URL} characters"
    return _url_problem(url)


@functools.lru_cache(maxsize=1024)
def _url_problem(url: str) -> str | None:
    if _has_control(url):
        return "URL contains a control character"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return "unparsable URL (authority or port)"
    if parts.scheme.lower() not in ("http", "https"):
        return f"refused scheme {parts.scheme[:20] or '(none)'!r}: only http and https"
    if not host:
        return "URL without a host"
    return host_problem(host)


SECRET_PARAMS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "auth", "auth_token", "authorization",
    "api_key", "apikey", "api-key", "key", "secret", "client_secret", "password", "passwd",
    "pwd", "pass", "sig", "signature", "session", "sessionid", "jwt", "credential", "private_key",
})


def _secret_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_PARAMS or lowered.endswith(("_token", "_key", "_secret", "-token",
                                                          "-key", "-secret", "password"))


def redact_url(url: str) -> str:
    """`url` with its credentials replaced by ``***``: the user info (``user:pw@``) and the
    values of query parameters that name a secret (token, api_key, key, secret, password, sig,
    ...). This form is what the database keeps (`sources.url`, `fetches.url`); the real URL
    lives only in memory, read from the configuration."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    pieces = [piece.partition("=") for piece in parts.query.split("&")] if parts.query else []
    query = "&".join(f"{name}=***" if sep and _secret_param(name) else name + sep + value
                     for name, sep, value in pieces)
    return parts._replace(netloc=netloc, query=query).geturl()
