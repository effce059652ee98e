"""The email channel: one message per story (or a digest) through an SMTP server, with a text
and an HTML part written for a reader (monitor.alerts.messages, monitor.alerts.mail).

Certificates are verified (STARTTLS with a default SSL context, or implicit TLS); credentials
are never sent without encryption. SMTP replies: 4xx are transient (the alert is retried), 5xx
permanent (RFC 5321 section 4.2.1)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from monitor.alerts import mail, messages
from monitor.alerts.channels.base import ChannelSpec, SecretSpec
from monitor.configuration.secrets import Secret
from monitor.configuration.table import Setting, addresses, positive_int, string, text
from monitor.errors import ChannelError
from monitor.matching.text import one_line
from storage.records import AlertRow


@dataclass(frozen=True)
class EmailOptions:
    host: str
    port: int
    security: str  # starttls | tls | none
    sender: str
    to: tuple[str, ...]
    username: str
    password: Secret | None
    ca_file: Path | None = None


class Email:
    name = "email"

    def __init__(self, settings: EmailOptions, timeout: float) -> None:
        self.s = settings
        self.timeout = timeout

    def message(self, rows: Sequence[AlertRow], digest: bool) -> EmailMessage:
        return mail.build(self.s.sender, self.s.to, messages.subject(rows, digest),
                          messages.plain_text(rows, digest, self.name),
                          messages.html_body(rows, digest, self.name), datetime.now(UTC))

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        await asyncio.to_thread(self._send, self.message(rows, digest))

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.s.ca_file) if self.s.ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        s = self.s
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self._context())
        return smtplib.SMTP(s.host, s.port, timeout=self.timeout)

    def _deliver(self, smtp: smtplib.SMTP, msg: EmailMessage) -> None:
        s = self.s
        smtp.ehlo()
        if s.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise ChannelError("the SMTP server does not offer STARTTLS; refusing to send",
                                   permanent=True)
            smtp.starttls(context=self._context())
            smtp.ehlo()
        if s.username:
            if s.password is None:
                raise ChannelError("no SMTP password configured", permanent=True)
            smtp.login(s.username, s.password.reveal())
        smtp.send_message(msg)

    def _send(self, msg: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                self._deliver(smtp, msg)
        except ChannelError:
            raise
        except smtplib.SMTPAuthenticationError as exc:  # 454: temporary, 535: wrong password
            raise ChannelError(f"SMTP login refused ({exc.smtp_code})",
                               permanent=_permanent(exc.smtp_code)) from None
        except smtplib.SMTPRecipientsRefused as exc:  # 450/451/452 per recipient: try again
            codes = [code for code, _ in exc.recipients.values()]
            raise ChannelError(f"SMTP server refused every recipient ({sorted(set(codes))})",
                               permanent=all(_permanent(c) for c in codes)) from None
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(f"SMTP certificate not trusted: {exc.verify_message}",
                               permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP error {exc.smtp_code}",
                               permanent=_permanent(exc.smtp_code)) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP: {type(exc).__name__}: {one_line(str(exc), 120)}") from None


def _permanent(smtp_code: int) -> bool:
    """SMTP replies: 4xx are transient (retry later), 5xx permanent (RFC 5321 section 4.2.1)."""
    return 500 <= smtp_code < 600


def _configure(values: Mapping[str, Any], secrets: Mapping[str, Secret | None],
               base: Path) -> EmailOptions:
    ca = values.get("ca_file")
    return EmailOptions(host=values["host"], port=values["port"], security=values["security"],
                        sender=values["from"], to=values["to"] or (),
                        username=values["username"] or "", password=secrets.get("password"),
                        ca_file=(base / ca) if ca else None)


def _check(values: Mapping[str, Any], secrets: Mapping[str, Secret | None]) -> list[str]:
    problems = []
    if values["security"] not in ("starttls", "tls", "none", None):
        problems.append("security: expected starttls, tls or none")
    elif values["security"] == "none" and values["username"]:
        problems.append("security: 'none' would send the password in clear")
    if not values["to"]:
        problems.append("to: at least one recipient is required")
    return problems


SPEC = ChannelSpec(
    name="email", enabled_help="send alerts by email",
    settings=(
        Setting("alerts.email.host", "localhost", "SMTP server", string),
        Setting("alerts.email.port", 587, "SMTP port (587 STARTTLS, 465 implicit TLS)", positive_int),
        Setting("alerts.email.security", "starttls", "starttls | tls (implicit) | none (only without credentials)", string),
        Setting("alerts.email.from", "feed-monitor@localhost", "sender address", string),
        Setting("alerts.email.to", [], "recipient addresses", addresses),
        Setting("alerts.email.username", "", "SMTP user name (empty: no login)", text),
        Setting("alerts.email.ca_file", "", "extra CA certificates (PEM) to trust for the SMTP server; empty: the system's", text),
    ),
    secrets=(SecretSpec("password", "SMTP password: password_env = 'VAR' or password_file = 'path'",
                        required=lambda values: bool(values.get("username"))),),
    configure=_configure, check=_check,
    make=lambda options, ctx: Email(options, ctx.timeout))
