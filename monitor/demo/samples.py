"""One email and one Slack message as a reader sees them, rendered by the real channel code
from a fixed alert: the README shows exactly this (a test keeps the two equal).

    python -m monitor.demo.samples    # print them, to paste into the README after a change
"""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

from monitor.alerts import channels
from storage.records import AlertRow, TopicHit

SENT = datetime(2026, 3, 10, 22, 9, tzinfo=UTC)

STORY = AlertRow(
    id=41, story_id=7, item_id=93, channel="email", kind="story", state="sending", attempts=1,
    created_at="2026-03-10T22:08:40Z", next_attempt_at="2026-03-10T22:08:40Z", sent_at=None,
    last_error=None, payload='{"rule": "defections"}', digest=False,
    headline="یک دیپلمات ایرانی در استکهلم درخواست پناهندگی داد",
    url="https://persian-herald.example/politics/2026/diplomat-stockholm-417201.html",
    outlets=("هرالد فارسی", "Azadi News", "Payam Daily"), outlet_count=3,
    agency=None, first_outlet="هرالد فارسی", first_seen_at="2026-03-10T22:05:12Z",
    language="fa",
    topics=(TopicHit("defections", 7.0, ("@leaving:درخواست پناهندگی", "@state_people:دیپلمات",
                                         "@iran:ایرانی")),),
    text=("یک دیپلمات ارشد سفارت جمهوری اسلامی در استکهلم با همسر و دو فرزندش از دولت سوئد "
          "درخواست پناهندگی سیاسی کرده است. این خبر را روز دوشنبه دو مقام اداره مهاجرت سوئد "
          "تأیید کردند. او هفته\u200cی گذشته محل اقامتش را ترک کرده بود. سخنگوی سفارت "
          "هنوز واکنشی نشان نداده است."),
    published_at="2026-03-10T22:01:00Z")

EMAIL = channels.EmailOptions(host="localhost", port=587, security="starttls",
                              sender="feed-monitor <feed-monitor@newsroom.example>",
                              to=("desk@newsroom.example",), username="", password=None)


def email_text() -> str:
    """The message as a mail client shows it: the main headers, decoded, then the text part."""
    msg = channels.Email(EMAIL, 20.0).message([STORY], False)
    del msg["Date"]
    msg["Date"] = email.utils.format_datetime(SENT)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    head = [f"{k}: {parsed[k]}" for k in ("From", "To", "Date", "Subject")]
    body = parsed.get_body(("plain",))
    assert body is not None
    text = str(body.get_content()).replace("\r\n", "\n").rstrip()
    return "\n".join(head) + "\n\n" + text + "\n"


def slack_text() -> str:
    """The Slack post: its header block, then the section's mrkdwn as sent."""
    payload = channels.slack_payload([STORY], False)
    blocks = payload["blocks"]
    return "\n\n".join(
        [f"# {blocks[0]['text']['text']}", *(b["text"]["text"] for b in blocks[1:])]) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(email_text())
    print(slack_text())
