"""Alert channels: console, email (SMTP), Slack (incoming webhook) and a generic JSON webhook.

Every channel takes a list of outbox rows and either delivers them (one story, or a digest of
several) or raises `ChannelError` saying whether a retry can help. Untrusted text (headlines,
outlet names, matched terms) is made safe for each medium: one line for email subjects (a line
break in a header would make the send fail), HTML-escaped in the HTML part, and `&`, `<`, `>`
escaped for Slack so a headline cannot ping `<!channel>` or disguise a link.
"""

from __future__ import annotations

import asyncio
import html
import json
import smtplib
import ssl
import sys
from collections.abc import Sequence
from email.message import EmailMessage
from typing import IO, Any, Protocol

import httpx

from monitor.configuration.settings import AlertSettings, EmailSettings
from monitor.errors import ChannelError
from monitor.fetching.http import parse_retry_after
from monitor.fetching.urls import is_http_url
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
        "outlet_count": row.outlet_count, "outlets": [one_line(o, 100) for o in row.outlets],
        "first_outlet": one_line(row.first_outlet, 100), "first_seen_at": row.first_seen_at,
        "agency": row.agency, "language": row.language,
        "topics": [{"topic": t.topic, "score": t.score, "matched": list(t.matched)}
                   for t in row.topics],
    }


def _related_lead(payload: str | None) -> str:
    """ "Now also reported by X in Persian, 1 h earlier" (a related story rolled up)."""
    p = json.loads(payload or "{}")
    language = {"fa": "Persian", "en": "English"}.get(p.get("language") or "", "")
    ahead = int(p.get("earlier_s") or 0)
    when = (f", {round(abs(ahead) / 3600, 1):g} h {'earlier' if ahead > 0 else 'later'}"
            if abs(ahead) >= 600 else "")
    return (f"Now also reported by {one_line(str(p.get('outlet') or '?'), 100)}"
            f"{' in ' + language if language else ''}{when}")


def _lead(row: AlertRow) -> str:
    if row.kind.startswith("pickup:"):
        return f"Now carried by {row.outlet_count} outlets"
    if row.kind.startswith("related:"):
        return _related_lead(row.payload)
    if row.kind == "test":
        return "Test alert"
    if row.kind.startswith("operator:"):
        return "Service notice"
    return "New story"


def text_lines(row: AlertRow) -> list[str]:
    d = describe(row)
    topics = "; ".join(f"{t['topic']} ({t['score']:g}: {', '.join(t['matched'][:5])})"
                       for t in d["topics"]) or "-"
    return [
        f"{_lead(row)}: {d['headline']}",
        f"  carried by {d['outlet_count']} outlet(s): {', '.join(d['outlets'][:10])}"
        + (f"; agency {d['agency']}" if d["agency"] else ""),
        f"  first seen {d['first_seen_at']} at {d['first_outlet']}",
        f"  topics: {topics}",
        f"  {d['url'] or '(no link)'}",
    ]


def subject(rows: Sequence[AlertRow], digest: bool) -> str:
    if digest:
        return one_line(f"feed-monitor digest: {len(rows)} stories", 200)
    return one_line(f"[feed-monitor] {_lead(rows[0])}: {rows[0].headline}", 200)


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "emoji": False,
        "text": subject(rows, digest)[:SLACK_HEADER_MAX]}}]
    for row in rows[:SLACK_BLOCKS_MAX - 2]:
        d = describe(row)
        lines = [f"*{slack_escape(d['headline'])}*",
                 f"Carried by {d['outlet_count']}: {slack_escape(', '.join(d['outlets'][:10]))}"]
        if d["agency"]:
            lines.append(f"Agency: {slack_escape(d['agency'])}")
        for t in d["topics"]:
            lines.append(f"Topic {slack_escape(t['topic'])} ({t['score']:g}): "
                         f"{slack_escape(', '.join(t['matched'][:6]))}")
        if d["url"]:
            safe = slack_escape(d["url"]).replace("|", "%7C")
            lines.append(f"<{safe}|Read the article>")
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "\n".join(lines)[:SLACK_TEXT_MAX]}})
    if len(rows) > SLACK_BLOCKS_MAX - 2:
        blocks.append({"type": "context", "elements": [{
            "type": "mrkdwn", "text": f"and {len(rows) - (SLACK_BLOCKS_MAX - 2)} more"}]})
    return {"text": subject(rows, digest), "blocks": blocks}


# -- channels ------------------------------------------------------------------------------------


class Console:
    name = "console"

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    async def send(self, rows: Sequence[AlertRow], digest: bool) -> None:
        if digest:
            print(f"ALERT DIGEST ({len(rows)} stories)", file=self.out)
        for row in rows:
            print("ALERT " + "\n".join(text_lines(row)), file=self.out)
        self.out.flush()


class Email:
    name = "email"

    def __init__(self, settings: EmailSettings, timeout: float) -> None:
        self.s = settings
        self.timeout = timeout

    def message(self, rows: Sequence[AlertRow], digest: bool) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject(rows, digest)
        msg["From"] = self.s.sender
        msg["To"] = ", ".join(self.s.to)
        body = "\n\n".join("\n".join(text_lines(r)) for r in rows)
        msg.set_content(body)
        parts = []
        for r in rows:
            d = describe(r)
            link = (f'<a href="{html.escape(d["url"], quote=True)}">Read the article</a>'
                    if d["url"] else "")
            parts.append(f"<h3>{html.escape(d['headline'])}</h3><p>Carried by "
                         f"{d['outlet_count']}: {html.escape(', '.join(d['outlets'][:10]))}"
                         f"</p><p>{html.escape('; '.join(t['topic'] for t in d['topics']))}"
                         f"</p><p>{link}</p>")
        msg.add_alternative("<html><body>" + "".join(parts) + "</body></html>", subtype="html")
        return msg

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
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError(f"SMTP login refused ({exc.smtp_code})", permanent=True) from None
        except smtplib.SMTPRecipientsRefused:
            raise ChannelError("SMTP server refused every recipient", permanent=True) from None
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(f"SMTP certificate not trusted: {exc.verify_message}",
                               permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP error {exc.smtp_code}",
                               permanent=500 <= exc.smtp_code < 600) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP: {type(exc).__name__}: {one_line(str(exc), 120)}") from None


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
