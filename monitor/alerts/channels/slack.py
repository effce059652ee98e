"""The Slack channel: an incoming webhook, with blocks written for a reader. Untrusted text is
escaped (`&`, `<`, `>`) so a headline cannot ping `<!channel>` or disguise a link; blocks stay
within Slack's limits (header 150, section 3000 characters, 50 blocks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.alerts import messages
from monitor.alerts.channels.json_post import HttpChannel, url_spec
from monitor.configuration.secrets import Secret
from monitor.matching.text import one_line
from storage.records import AlertRow

SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_BLOCKS_MAX = 50


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _story(row: AlertRow, compact: bool) -> str:
    st = messages.story(row)
    lines = [f"*{slack_escape(st.headline)}*",
             slack_escape(st.outlets + "." + (f" {st.times}." if st.times else ""))]
    if compact:  # a digest entry says what happened; a single message has it in the header
        lines.insert(0, slack_escape(_header([row], False)))
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


def _header(rows: Sequence[AlertRow], digest: bool) -> str:
    """What happened, not the headline (the section below starts with it)."""
    if digest:
        return f"feed-monitor digest: {len(rows)} alert{'s' if len(rows) != 1 else ''}"
    row = rows[0]
    topics = messages.topic_names(row)
    return f"{messages.label(row)}{' · ' + topics if topics else ''}"


def slack_payload(rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "emoji": False,
        "text": one_line(_header(rows, digest), SLACK_HEADER_MAX)}}]
    if digest:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(
            rows[0].digest_reason or "This channel sends digests.")}]})
    for row in rows[:SLACK_BLOCKS_MAX - 3]:
        text = (slack_escape(messages.service_text(row, "slack")) if messages.is_service(row)
                else _story(row, digest))
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": text[:SLACK_TEXT_MAX]}})
    if len(rows) > SLACK_BLOCKS_MAX - 3:
        blocks.append({"type": "context", "elements": [{
            "type": "mrkdwn", "text": f"and {len(rows) - (SLACK_BLOCKS_MAX - 3)} more"}]})
    return {"text": messages.subject(rows, digest), "blocks": blocks}


class Slack(HttpChannel):
    name = "slack"

    def payload(self, rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
        return slack_payload(rows, digest)


@dataclass(frozen=True)
class SlackOptions:
    webhook_url: Secret | None


SPEC = url_spec("slack", "post alerts to a Slack incoming webhook", "webhook_url",
                "the webhook URL: webhook_url_env = 'VAR' or webhook_url_file = 'path'",
                Slack, SlackOptions)
