"""What the hostile suite's cases are made of: the `Case` record and small feed builders
(shared by `tests.hostile`, its round-two cases and checks, without an import cycle)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.server import Reply, TestServer

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def feed(*items: str, head: str = "") -> bytes:
    return (f"<?xml version='1.0' encoding='utf-8'?>{head}<rss version='2.0'><channel>"
            f"<title>Hostile</title>{''.join(items)}</channel></rss>").encode()


def item(title: str = "Strike in Tabriz", link: str | None = None, guid: str | None = "g1",
         extra: str = "") -> str:
    parts = [f"<title>{title}</title>"]
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if guid is not None:
        parts.append(f"<guid isPermaLink='false'>{guid}</guid>")
    return f"<item>{''.join(parts)}{extra}</item>"


@dataclass
class Case:
    name: str
    category: str
    reply: Callable[[TestServer], Reply | Callable[[BaseHTTPRequestHandler], None]] | None
    expect: str  # "error:<substring>" | "items:<status>[,<status>...]" | "count:<n>" | "text:<s>"
    #   | "ok"
    url: str | None = None  # a fixed URL instead of a route on the test server
    group: str = "normal"  # normal: 127.0.0.1 allowed (the test server) | empty: nothing allowed
    routes: dict[str, Callable[[TestServer], Reply]] = field(default_factory=dict)
    runs: int = 1
