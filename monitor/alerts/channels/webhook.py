"""The webhook channel: each alert (or digest) POSTed as JSON to a URL; `describe` is the
alert's plain data, which the other channels render for people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.alerts import messages
from monitor.alerts.channels.json_post import HttpChannel, url_spec
from monitor.configuration.secrets import Secret
from monitor.fetching.urls import is_http_url
from monitor.matching.reasons import reason
from monitor.matching.text import one_line
from storage.records import AlertRow


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


class Webhook(HttpChannel):
    name = "webhook"

    def payload(self, rows: Sequence[AlertRow], digest: bool) -> dict[str, Any]:
        if digest:
            return {"digest": True, "alerts": [describe(r) for r in rows]}
        return {"digest": False, **describe(rows[0])}


@dataclass(frozen=True)
class WebhookOptions:
    url: Secret | None


SPEC = url_spec("webhook", "POST alerts as JSON to a URL", "url",
                "the URL: url_env = 'VAR' or url_file = 'path'", Webhook, WebhookOptions)
