"""What an alert says, written for a journalist: one function per part, one per medium.

A story alert has a label (what happened: a new story, or one now carried by N outlets), the
headline, the outlets and times (UTC and Tehran), a lede of two or three sentences from the
stored text, the reason in plain words and the link. Service notices (operator alerts about the
monitor itself, `monitor alerts test`) have their own, shorter template. Persian parts are marked
right to left in HTML (``dir="rtl" lang="fa"``); in plain text a Persian phrase inside an English
line is wrapped in Unicode isolates (FSI ... PDI) so that its punctuation stays in place.

Untrusted text (headlines, outlet names, matched terms, the lede) is cut to one line where it
must be, HTML-escaped in HTML and escaped for Slack by the callers in `monitor.alerts.channels`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.fetching.urls import is_http_url
from monitor.matching.text import one_line, search_form
from storage.records import AlertRow, TopicHit

TEHRAN = ZoneInfo("Asia/Tehran")
FSI, PDI = "\u2068", "\u2069"
LEDE_SENTENCES = 3
LEDE_MAX = 420
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_LATIN = re.compile("[A-Za-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?؟…])[\"'»”)\]]*\s+")


def is_rtl(text: str) -> bool:
    """Mostly Hebrew/Arabic-script letters (Persian)."""
    return len(_RTL.findall(text[:2000])) > len(_LATIN.findall(text[:2000]))


def isolate(text: str) -> str:
    """A phrase for an English line: a right-to-left one wrapped in first-strong isolates."""
    return f"{FSI}{text}{PDI}" if _RTL.search(text) else text


def when(value: str | None) -> str:
    """'4 Dec 2026, 03:12 UTC (06:42 in Tehran)'; '' for a missing or unreadable time."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        moment = None
    if moment is None:
        return ""
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    tehran = moment.astimezone(TEHRAN)
    day = "" if tehran.date() == moment.date() else f" {tehran.day} {tehran:%b}"
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC ({tehran:%H:%M}{day} in Tehran)"


def lede(text: str, sentences: int = LEDE_SENTENCES, limit: int = LEDE_MAX) -> str:
    """The first two or three sentences of the stored text, on one line, within `limit`."""
    first = next((p for p in (text or "").split("\n") if len(p.split()) >= 6), text or "")
    parts = _SENTENCE_END.split(one_line(first, 4000))
    out = ""
    for part in parts[:sentences]:
        candidate = f"{out} {part}".strip()
        if out and len(candidate) > limit:
            break
        out = candidate
    return one_line(out, limit)


def _term(raw: str) -> str:
    """A matched term as people read it: '@leaving:سر باز زد' -> 'سر باز زد'."""
    term = raw.split(":", 1)[1] if raw.startswith("@") and ":" in raw else raw
    return one_line(term.replace("*", ""), 60)


def explain_topics(topics: Sequence[TopicHit], headline: str) -> list[str]:
    """Why the story alerted, one plain sentence per topic, e.g. "defections: matched «sought
    asylum» in the headline; an Iranian diplomat; score 0.93": the spellings the rule matched
    and where, then the model's strongest evidence and its score (monitor.matching.judge)."""
    title = search_form(headline)
    lines = []
    for hit in topics:
        terms = list(dict.fromkeys(_term(t) for t in hit.matched if _term(t)))[:4]
        places: dict[str, list[str]] = {}
        for t in terms:
            place = "headline" if search_form(t) in title else "text"
            places.setdefault(place, []).append(f"«{isolate(t)}»")
        said = [f"matched {_and(found)} in the {place}" for place, found in places.items()]
        said += [isolate(e) for e in hit.evidence[:2]]
        if hit.probability is not None:  # the rule's own score means little to a reader
            said.append(f"score {hit.probability:.2f}")
        if not said:
            said.append(f"matched (score {hit.score:g})")
        lines.append(f"{hit.topic}: {'; '.join(said)}")
    return lines


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass(frozen=True)
class Story:
    """One story alert as the parts every medium shows."""

    label: str
    headline: str
    rtl: bool
    outlets: str
    times: str
    lede: str
    lede_rtl: bool
    reasons: tuple[str, ...]
    url: str | None
    first_outlet: str
    story_url: str | None = None  # the story's page in the reader (web.base_url)


def is_service(row: AlertRow) -> bool:
    return row.kind == "test" or row.kind.startswith("operator:")


def related_label(payload: str | None) -> str:
    """ "Now also reported by X in Persian, 1 h earlier" (a related story rolled up)."""
    p = json.loads(payload or "{}")
    language = {"fa": "Persian", "en": "English"}.get(p.get("language") or "", "")
    ahead = int(p.get("earlier_s") or 0)
    when = (f", {round(abs(ahead) / 3600, 1):g} h {'earlier' if ahead > 0 else 'later'}"
            if abs(ahead) >= 600 else "")
    return (f"Now also reported by {isolate(one_line(str(p.get('outlet') or '?'), 100))}"
            f"{' in ' + language if language else ''}{when}")


def label(row: AlertRow) -> str:
    if row.kind.startswith("related:"):
        return related_label(row.payload)
    if row.kind.startswith("pickup:"):
        threshold = row.kind.partition(":")[2]
        count = max(row.outlet_count, int(threshold) if threshold.isdigit() else 0)
        return f"Now carried by {count} outlets"
    if row.kind == "test":
        return "Test message"
    if row.kind.startswith("operator:"):
        return "Service notice"
    return "New story"


def story(row: AlertRow) -> Story:
    headline = one_line(row.headline, 500)
    outlets = [one_line(o, 100) for o in row.outlets if o] or [one_line(row.first_outlet, 100)]
    first = outlets[0] if outlets else ""
    others = [o for o in outlets if o != first]
    carried = f"{isolate(first)} first" if first else "first outlet unknown"
    if others:
        more = f" and {len(others) - 8} more" if len(others) > 8 else ""
        carried += f"; also {', '.join(isolate(o) for o in others[:8])}{more}"
    count = max(row.outlet_count, len(outlets))
    carried += f" ({count} outlet{'s' if count != 1 else ''})"
    if row.agency:
        carried += f"; agency {isolate(one_line(row.agency, 60))}"
    times = [f"{what} {moment}" for what, value in (("published", row.published_at),
                                                     ("first seen", row.first_seen_at))
             if (moment := when(value))]
    joined = "; ".join(times)
    text = lede(row.text)
    return Story(
        label=label(row), headline=headline, rtl=is_rtl(headline), outlets=carried,
        times=joined[:1].upper() + joined[1:], lede=text,
        lede_rtl=is_rtl(text), reasons=tuple(explain_topics(row.topics, headline)),
        url=row.url if is_http_url(row.url) else None, first_outlet=first,
        story_url=row.story_url if is_http_url(row.story_url) else None)


def topic_names(row: AlertRow) -> str:
    return ", ".join(dict.fromkeys(t.topic for t in row.topics))


# -- plain text (console, the email's text part) --------------------------------------------------


def story_text(row: AlertRow) -> str:
    s = story(row)
    head = s.label + (f" · {topic_names(row)}" if row.topics else "")
    lines = [head, s.headline, "", s.outlets + ".", s.times + "." if s.times else ""]
    if s.lede:
        lines += ["", s.lede]
    if s.reasons:
        lines += ["", "Why you got this: " + "; ".join(s.reasons) + "."]
    lines += ["", f"Read it: {s.url}" if s.url else "(no link)"]
    if s.story_url:
        lines.append(f"story: {s.story_url}")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def service_text(row: AlertRow, channel: str) -> str:
    moment = when(row.created_at) or when(datetime.now(UTC).isoformat())
    if row.kind == "test":
        return (f"Test message from feed-monitor: the {channel} channel works.\n"
                f"Sent {moment}. Nothing to do.")
    return (f"Service notice from feed-monitor (about the monitor itself, not a story):\n\n"
            f"{one_line(row.headline, 500)}\n\nAt {moment}. `monitor status` on the host "
            f"shows every source's health.")


def digest_entry_text(row: AlertRow) -> str:
    s = story(row)
    what = s.label + (f" · {topic_names(row)}" if row.topics else "")
    times = f"; {s.times[:1].lower()}{s.times[1:]}" if s.times else ""
    lines = [f"* {what}: {s.headline}", f"  {s.outlets}{times}"]
    if s.reasons:
        lines.append("  Why: " + "; ".join(s.reasons))
    lines.append(f"  {s.url}" if s.url else "  (no link)")
    if s.story_url:
        lines.append(f"  story: {s.story_url}")
    return "\n".join(lines)


def plain_text(rows: Sequence[AlertRow], digest: bool, channel: str) -> str:
    if not digest:
        row = rows[0]
        return service_text(row, channel) if is_service(row) else story_text(row)
    head = f"feed-monitor digest: {len(rows)} alert{'s' if len(rows) != 1 else ''}"
    reason = rows[0].digest_reason or "This channel sends digests."
    entries = [service_text(r, channel) if is_service(r) else digest_entry_text(r)
               for r in rows]
    return "\n\n".join([head, reason, *entries])


def subject(rows: Sequence[AlertRow], digest: bool) -> str:
    """The email subject (and Slack's notification text); one line."""
    if digest:
        return f"[feed-monitor] Digest: {len(rows)} alert{'s' if len(rows) != 1 else ''}"
    row = rows[0]
    if row.kind == "test":
        return "[feed-monitor] Test message"
    return one_line(f"[feed-monitor] {label(row)}: {row.headline}", 200)


# -- HTML (the email's HTML part) -----------------------------------------------------------------


def _dir(rtl: bool) -> str:
    return ' dir="rtl" lang="fa"' if rtl else ' dir="ltr"'


def _bidi(text: str) -> str:
    """HTML-escaped text with each Persian isolate as a <bdi lang="fa"> element."""
    escaped = html.escape(text)
    return re.sub(f"{FSI}(.*?){PDI}", r'<bdi dir="rtl" lang="fa">\1</bdi>', escaped)


def story_html(row: AlertRow, *, compact: bool = False) -> str:
    s = story(row)
    what = s.label + (f" · {topic_names(row)}" if row.topics else "")
    parts = [f'<p style="color:#555;margin:0">{html.escape(what)}</p>',
             f"<h2{_dir(s.rtl)} style=\"margin:4px 0\">{html.escape(s.headline)}</h2>",
             f"<p dir=\"ltr\">{_bidi(s.outlets)}.<br>{html.escape(s.times)}</p>"]
    if s.lede and not compact:
        parts.append(f"<p{_dir(s.lede_rtl)}>{html.escape(s.lede)}</p>")
    if s.reasons:
        parts.append(f'<p dir="ltr">Why you got this: {_bidi("; ".join(s.reasons))}.</p>')
    if s.url:
        parts.append(f'<p dir="ltr"><a href="{html.escape(s.url, quote=True)}">Read it at '
                     f"{_bidi(isolate(s.first_outlet) or 'the outlet')}</a></p>")
    if s.story_url:
        parts.append(f'<p dir="ltr"><a href="{html.escape(s.story_url, quote=True)}">'
                     "The story's page: who carried it and when</a></p>")
    return "<div>" + "".join(parts) + "</div>"


def service_html(row: AlertRow, channel: str) -> str:
    paragraphs = service_text(row, channel).split("\n\n")
    return "".join(f"<p{_dir(is_rtl(p))}>{html.escape(p)}</p>" for p in paragraphs)


def html_body(rows: Sequence[AlertRow], digest: bool, channel: str) -> str:
    parts = []
    if digest:
        parts.append(f"<h1>feed-monitor digest: {len(rows)} alert{'s' * (len(rows) != 1)}</h1>"
                     f"<p>{html.escape(rows[0].digest_reason or 'This channel sends digests.')}"
                     "</p>")
    for row in rows:
        parts.append(service_html(row, channel) if is_service(row)
                     else story_html(row, compact=digest))
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head>'
            '<body style="font-family:sans-serif">' + "<hr>".join(parts) + "</body></html>")
