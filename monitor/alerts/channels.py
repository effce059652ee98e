"""Alert channels: console, email (SMTP), Slack (incoming webhook) and a generic JSON webhook.

Every channel takes a list of outbox rows and either delivers them (one story, or a digest of
several) or raises `ChannelError` saying whether a retry can help. Untrusted text (headlines,
outlet names, matched terms) is made safe for each medium: one line for email subjects (a line
break in a header would make the send fail), HTML-escaped in the HTML part, and `&`, `<`, `>`
escaped for Slack so a headline cannot ping `<!channel>` or disguise a link.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import IO, Any, Protocol

import httpx

from monitor.alerts import mail, messages
from monitor.configuration.settings import AlertSettings, EmailSettings
from monitor.errors import FOREIGN_URL_ERRORS, ChannelError
from monitor.fetching.http import parse_retry_after
from monitor.fetching.urls import is_http_url
from monitor.matching.reasons import reason
from monitor.matching.text import one_line
from storage.records import AlertRow

SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_BLOCKS_MAX = 50


class Channel(Protocol):
    name: str

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None: ...


# -- rendering -----------------------------------------------------------------------------------


def describe(row: AlertRow) -> dict[str, Any]:
    """The facts of one alert, as plain data (the webhook's JSON; the others render it)."""
    return {
        "alert_id": row.id, "story_id": row.story_id, "kind": row.kind,
        "headline": one_line(row.headline, 500), "url": row.url if is_http_url(row.url) else None,
        "story_url": row.story_url if is_http_url(row.story_url) else None,
        "outlet_count": row.outlet_count, "outlets": [one_line(o, 100) for o in row.outlets],
        "first_outlet": one_line(row.first_outlet, 100), "first_seen_at": row.first_seen_at,
        "agency": row.agency, "language": row.language,
        "topics": [{"topic": t.topic, "score": t.score, "matched": list(t.matched),
                    "state": t.state, "probability": t.probability,
                    "reason": one_line(reason(t), 500)} for t in row.topics],
        "published_at": row.published_at, "lede": messages.lede(row.text),
        "why": messages.explain_topics(row.topics, row.headline),
    }


def text_lines(row: AlertRow) -> list[str]:
    """One alert as plain text lines (the console's and the email's text)."""
    return messages.plain_text([row], False, "console").split("\n")


def subject(rows: Sequence[AlertRow], digest: bool) -> str:
    return messages.subject(rows, digest)


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_story(row: AlertRow, compact: bool) -> str:
    st = messages.story(row)
    lines = [f"*{slack_escape(st.headline)}*",
             slack_escape(st.outlets + "." + (f" {st.times}." if st.times else ""))]
    if compact:  # a digest entry says what happened; a single message has it in the header
        lines.insert(0, slack_escape(_slack_header([row], False)))
    if st.lede and not compact:
        lines += ["", slack_escape(st.lede)]
    if st.reasons:
        lines += ["", "_Why:_ " + slack_escape("; ".join(st.reasons))]
    if st.url:
        safe = slack_escape(st.url).replace("|", "%7C")
        lines.append(f"<{safe}|Read it at {slack_escape(st.first_outlet or 'the outlet')}>")
    if st.story_url:
        lines.append(f"<{slack_escape(st.story_url).replace('|', '%7C')}|Story page>")
    return "\n".join(lines)


def _slack_header(rows: Sequence[AlertRow], digest: bool) -> str:
    """What happened, not the headline (the section below starts with it)."""
    if digest:
        return f"feed-monitor digest: {len(rows)} alert{'s' if len(rows) != 1 else ''}"
    row = rows[0]
    topics = messages.topic_names(row)
    return f"{messages.label(row)}{' · ' + topics if topics else ''}"


def slack_payload(rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "emoji": False,
        "text": one_line(_slack_header(rows, digest), SLACK_HEADER_MAX)}}]
    if digest:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(
            rows[0].digest_reason or "This channel sends digests.")}]})
    for row in rows[:SLACK_BLOCKS_MAX - 3]:
        text = (slack_escape(messages.service_text(row, "slack")) if messages.is_service(row)
                else _slack_story(row, digest))
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": text[:SLACK_TEXT_MAX]}})
    if len(rows) > SLACK_BLOCKS_MAX - 3:
        blocks.append({"type": "context", "elements": [{
            "type": "mrkdwn", "text": f"and {len(rows) - (SLACK_BLOCKS_MAX - 3)} more"}]})
    return {"text": subject(rows, digest), "blocks": blocks}


# -- channels ------------------------------------------------------------------------------------


class Console:
    name = "console"

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        for block in [rows] if digest else [[r] for r in rows]:
            print("ALERT " + messages.plain_text(block, digest, self.name) + "\n", file=self.out)
        self.out.flush()


class Email:
    name = "email"

    def __init__(self, settings: EmailSettings, timeout: float) -> None:
        self.s = settings
        self.timeout = timeout

    def message(self, rows: Sequence[AlertRow], digest: bool) -> EmailMessage:
        return mail.build(self.s.sender, self.s.to, subject(rows, digest),
                          messages.plain_text(rows, digest, self.name),
                          messages.html_body(rows, digest, self.name), datetime.now(UTC))

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        await asyncio.to_thread(self._send, self.message(rows, digest))

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.s.ca_file) if self.s.ca_file else None)

    def _send(self, msg: EmailMessage) -> None:
        s = self.s
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if s.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise ChannelError("the SMTP server does not offer STARTTLS; refusing "
                                           "to send", permanent=True)
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if s.username:
                    if s.password is None:
                        raise ChannelError("no SMTP password configured", permanent=True)
                    smtp.login(s.username, s.password.reveal())
                smtp.send_message(msg)
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


class _Http:
    """Slack and webhooks: POST JSON; 2xx is delivered, 429/5xx retried, other 4xx permanent."""

    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self._url = url

    def payload(self, rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        body = json.dumps(self.payload(rows, digest), ensure_ascii=False).encode("utf-8")
        try:
            resp = await self.client.post(self._url, content=body,
                                          headers={"Content-Type": "application/json"})
        except httpx.TimeoutException:
            raise ChannelError(f"{self.name}: timed out") from None
        except httpx.HTTPError as exc:  # the URL is a secret: name the error, not the address
            raise ChannelError(f"{self.name}: {type(exc).__name__}") from None
        except FOREIGN_URL_ERRORS as exc:  # an unusable URL: no retry can help
            raise ChannelError(f"{self.name}: invalid URL ({type(exc).__name__})",
                               permanent=True) from None
        if resp.status_code < 300:
            return
        retry_after = parse_retry_after(resp.headers.get("retry-after"))
        transient = resp.status_code == 429 or resp.status_code >= 500
        raise ChannelError(f"{self.name}: HTTP {resp.status_code}", permanent=not transient,
                           retry_after=retry_after)


class Slack(_Http):
    name = "slack"

    def payload(self, rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
        return slack_payload(rows, digest)


class Webhook(_Http):
    name = "webhook"

    def payload(self, rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
        if digest:
            return {"digest": True, "alerts": [describe(r) for r in rows]}
        return {"digest": False, **describe(rows[0])}


def build(settings: AlertSettings, client: httpx.AsyncClient,
          console_out: IO[str] | None = None) -> dict[str, Channel]:
    """The enabled channels, by name."""
    out: dict[str, Channel] = {}
    if settings.console:
        out["console"] = Console(console_out)
    if settings.email.enabled:
        out["email"] = Email(settings.email, settings.timeout)
    if settings.slack_enabled and settings.slack_webhook_url is not None:
        out["slack"] = Slack(client, settings.slack_webhook_url.reveal())
    if settings.webhook_enabled and settings.webhook_url is not None:
        out["webhook"] = Webhook(client, settings.webhook_url.reveal())
    return out
