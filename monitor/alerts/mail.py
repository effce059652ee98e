"""Email messages with headers every reader decodes alike: Date, Message-ID and a Subject that
keeps its spaces.

Python's folder (`email.policy.default`, 3.11) can put the space between two words of a long
non-ASCII subject *between* two RFC 2047 encoded words, where RFC 2047 says a decoder drops it
(«بازداشت معترضان» came back as «بازداشتمعترضان»). The policy here maps ``Subject`` to a header
class whose folding keeps every space inside an encoded word, never splits a character between
two words, and leaves an ASCII subject on one line up to the 998-character line limit (RFC 5322)
instead of folding it at 78.
"""

from __future__ import annotations

import base64
import email.utils
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from typing import Any

MAX_LINE = 998  # RFC 5322 hard limit
WORD_BYTES = 42  # UTF-8 bytes per word: base64 of 42 bytes + "=?utf-8?b??=" = 68 characters


def encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 "B" encoded words of whole characters, spaces inside the words."""
    words: list[str] = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > WORD_BYTES:
            words.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += data
    if chunk:
        words.append(chunk.decode("utf-8"))
    return ["=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?="
            for w in words]


def fold_subject(name: str, value: str, linesep: str) -> str:
    """``Name: value`` folded: ASCII on one line; otherwise the ASCII words before the first
    non-ASCII one kept readable, the rest as encoded words, one per continuation line."""
    value = " ".join(value.split())
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE:
        return f"{name}: {value}{linesep}"
    words = value.split(" ")
    plain = []
    while words and words[0].isascii():
        plain.append(words.pop(0))
    rest = " ".join(words)
    encoded = encoded_words(rest)
    # the literal text ends with a space that stays (it is not between two encoded words)
    head = f"{name}: " + " ".join(plain)
    if not plain or len(head) + 1 + len(encoded[0]) <= 78:
        lines = [f"{head.rstrip()} {encoded[0]}", *(" " + w for w in encoded[1:])]
    else:  # the folding space after the literal words unfolds to the one space between them
        lines = [head.rstrip(), *(" " + w for w in encoded)]
    return linesep.join(lines) + linesep


class SubjectHeader(UnstructuredHeader, BaseHeader):
    def fold(self, *, policy: Policy) -> str:
        return fold_subject(self.name, str(self), policy.linesep)


def policy() -> Policy:
    registry = HeaderRegistry()
    registry.map_to_type("subject", SubjectHeader)
    result: Policy = SMTP.clone(header_factory=registry)
    return result


def domain_of(address: str) -> str:
    _, addr = email.utils.parseaddr(address)
    domain = addr.rpartition("@")[2]
    return domain if domain and "." in domain else "feed-monitor.invalid"


def build(sender: str, to: Sequence[str], subject: str, text: str, html: str,
          now: datetime, **extra: Any) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with Date and Message-ID."""
    msg = EmailMessage(policy=policy())
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = email.utils.format_datetime(now)
    msg["Message-ID"] = email.utils.make_msgid("feed-monitor", domain=domain_of(sender))
    for key, value in extra.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
