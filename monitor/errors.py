"""The one exception tree of the daemon.

Everything the monitor raises on purpose derives from :class:`MonitorError`; foreign exceptions
(httpx/httpcore, feedparser, trafilatura, sqlite3) are translated where they enter: the HTTP
client (`monitor.fetching.http`), the worker pool (`monitor.workers`) and the CLI boundary for
storage errors.
Ordinary outcomes (304 Not Modified, an unchanged body, an entry skipped by the gate, an extraction
that fell back to the feed text) are *values*, never exceptions.

    MonitorError
    ├── ConfigError                 configuration invalid; carries every problem found (exit 2)
    ├── FetchError                  one HTTP fetch failed; recorded on the source, retried later
    │   ├── InvalidURL              not http(s), no host, unparsable
    │   ├── BlockedAddress          resolved to a forbidden (private, loopback, ...) address
    │   ├── NetworkError            DNS, connect refused, reset, TLS, protocol violation
    │   ├── DeadlineExceeded        the total deadline (or a read/connect timeout) ran out
    │   ├── TooManyRedirects        more hops than allowed, or a loop
    │   ├── BodyTooLarge            over the wire cap or the decoded cap (compression bombs)
    │   └── HTTPStatusError         a 4xx/5xx answer; `.status` and `.retry_after` are kept
    ├── RobotsError                 robots.txt forbids the listing page (or cannot be read yet)
    ├── ParseError                  the body is not a usable feed or listing page
    ├── WorkerError                 the CPU worker pool could not finish a task
    │   ├── WorkerTimeout           the task ran over its hard timeout; the worker was killed
    │   ├── WorkerCrashed           the worker process died (segfault, OOM, kill)
    │   └── WorkerTaskFailed        the task raised something else; `.type_name` names it
    └── ChannelError                an alert channel did not take a message; `.permanent` says
                                    whether a retry can help, `.retry_after` what it asked for

Storage has its own small tree (`storage.errors.StorageError`) because `storage` never imports
`monitor`; the CLI maps both trees to exit codes.
"""

from __future__ import annotations

import httpx
import idna

# What parsing a URL can raise anywhere in the HTTP stack (httpx, idna, the socket layer's
# codec, urllib). `monitor.fetching.http` translates these into `InvalidURL` at its boundary,
# so no run ever ends on them as an "internal error".
FOREIGN_URL_ERRORS: tuple[type[Exception], ...] = (httpx.InvalidURL, idna.IDNAError,
                                                   UnicodeError, ValueError)


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is invalid. ``problems`` lists every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class FetchError(MonitorError):
    """An HTTP fetch failed. The message is one line, safe to store and log (no secrets).
    `status` is the HTTP status when the server answered (None otherwise)."""

    status: int | None = None
    retry_after: float | None = None


class InvalidURL(FetchError):
    pass


class BlockedAddress(FetchError):
    pass


class NetworkError(FetchError):
    pass


class DeadlineExceeded(FetchError):
    pass


class TooManyRedirects(FetchError):
    pass


class BodyTooLarge(FetchError):
    pass


class HTTPStatusError(FetchError):
    status: int

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)

    def __reduce__(self) -> tuple[type[HTTPStatusError], tuple[int, str, float | None]]:
        return (HTTPStatusError, (self.status, str(self), self.retry_after))


class ParseError(MonitorError):
    pass


class WorkerError(MonitorError):
    pass


class WorkerTimeout(WorkerError):
    pass


class WorkerCrashed(WorkerError):
    pass


class WorkerTaskFailed(WorkerError):
    def __init__(self, message: str, type_name: str = "Exception") -> None:
        super().__init__(message)
        self.type_name = type_name

    def __reduce__(self) -> tuple[type[WorkerTaskFailed], tuple[str, str]]:
        return (WorkerTaskFailed, (str(self), self.type_name))


class ChannelError(MonitorError):
    """An alert channel refused or failed a message (its text never holds a secret)."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class RobotsError(MonitorError):
    """robots.txt disallows a listing page, or could not be read (the run is retried later)."""
