"""The reader's ASGI application (Starlette routes, Jinja2 templates with autoescape).

Every request opens its own read-only connection (`storage.reader.open_readonly`), renders one
server-side page and closes it. Headers forbid scripts and foreign resources outright (the pages
need none), so even a headline that slipped past escaping could not run. With an access token
configured, every request needs it: as the password of HTTP Basic (what a browser asks for) or
as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.web import format as fmt
from monitor.web import pages

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@dataclass(frozen=True)
class ReaderConfig:
    database: Path
    topics: tuple[str, ...] = ()
    datasette_url: str = ""
    token: str | None = None
    clock: Callable[[], datetime] = field(default=pages.utc_now)


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(dir=fmt.text_dir, when=fmt.when, reason_words=fmt.reason_words)
    env.globals.update(match_words=pages.MATCH_WORDS)
    return env


class Guard:
    """Security headers on every response; the access token checked when one is configured."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    def allowed(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, value = raw.partition(" ")
        given = ""
        if scheme.lower() == "bearer":
            given = value.strip()
        elif scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
            except ValueError:
                given = ""
        return hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.encode(), v.encode())
                                        for k, v in SECURITY_HEADERS.items())]
            await send(message)

        if not self.allowed(scope):
            denied = PlainTextResponse(
                "This reader needs its access token (web.token): give it as the password.",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="feed-monitor", charset="UTF-8"'})
            await denied(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)


def create_app(config: ReaderConfig) -> ASGIApp:
    env = templates()

    def page(build: pages.Builder) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            context: dict[str, Any] = {"request": request, "nav": request.url.path,
                                       "datasette_url": config.datasette_url}
            try:
                name, values = build(config, request)
                status = 200
            except pages.PageError as exc:
                name, values, status = "error.html", {"message": str(exc)}, exc.status
            html = env.get_template(name).render(**context, **values)
            return HTMLResponse(html, status_code=status)

        return endpoint

    routes = [
        Route("/", page(pages.stories)),
        Route("/stories", page(pages.stories)),
        Route("/stories/{story_id:int}", page(pages.story)),
        Route("/search", page(pages.search)),
        Route("/trends", page(pages.trends)),
        Route("/sources", page(pages.sources)),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    return Guard(app, config.token)
