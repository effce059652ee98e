"""Logging: key=value lines on stderr, httpx/httpcore request logging silenced, secrets redacted.

The redaction filter rewrites every record's final message: credentials in URLs
(``user:password@``), secret-looking query parameters (``token=``, ``key=``, ``sig=`` ...),
Slack webhook paths, and any literal secret value registered with `register_secret`.
"""

from __future__ import annotations

import logging
import re
import sys

_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]*@")
_SECRET_PARAMS = re.compile(
    r"(?i)([?&](?:token|access_token|api[_-]?key|key|secret|password|passwd|sig|signature|auth)=)"
    r"[^&\s\"']+")
_SLACK_HOOK = re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+")
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Never print this value (a password, a webhook URL) in any log line."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for value in sorted(_secrets, key=len, reverse=True):
        text = text.replace(value, "***")
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    text = _SECRET_PARAMS.sub(r"\1***", text)
    return _SLACK_HOOK.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(verbosity: int = 0) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("level=%(levelname)s logger=%(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "trafilatura", "htmldate", "courlan", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
