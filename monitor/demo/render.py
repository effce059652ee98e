"""Render the simulator's documents: article pages with boilerplate, RSS, Atom, listing pages."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from html import escape

from monitor.demo.corpus import Piece
from monitor.demo.outlets import Outlet
from monitor.parsing.dates import IRAN_TZ, PERSIAN_MONTHS, gregorian_to_jalali

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def persian_date(moment: datetime, numeric: bool = False) -> str:
    """A Solar Hijri date in Persian digits, Iran time, as Iranian sites print it."""
    local = moment.astimezone(IRAN_TZ)
    y, m, d = gregorian_to_jalali(local.date())
    if numeric:
        text = f"{y}/{m:02d}/{d:02d} {local:%H:%M}"
    else:
        text = f"{d} {PERSIAN_MONTHS[m - 1]} {y} - {local:%H:%M}"
    return text.translate(_PERSIAN_DIGITS)


def article_html(outlet: Outlet, piece: Piece, url: str, published: datetime,
                 related: list[tuple[str, str]]) -> str:
    rtl = outlet.language == "fa"
    nav = "".join(f'<li><a href="/section/{i}">{escape(n)}</a></li>'
                  for i, n in enumerate(outlet.nav))
    shown_date = persian_date(published) if rtl else f"{published:%d %B %Y, %H:%M} UTC"
    byline = escape(piece.author or ("تحریریه" if rtl else "Staff"))
    meta_date = "" if outlet.id == "persian-herald" else (
        f'<meta property="article:published_time" content="{published.isoformat()}">')
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in piece.paragraphs)
    related_items = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>'
                            for u, t in related)
    cookie = (f'<div class="cookie-banner" role="dialog"><p>{escape(outlet.cookie)}</p>'
              f'<button>OK</button></div>') if outlet.cookie else ""
    author_box = (f'<aside class="author-box"><strong>{byline}</strong> '
                  f'{"خبرنگار" if rtl else "reports for"} {escape(outlet.name)}.</aside>')
    return f"""<!DOCTYPE html>
<html lang="{outlet.language}" dir="{'rtl' if rtl else 'ltr'}">
<head>
<meta charset="utf-8">
<title>{escape(piece.headline)} | {escape(outlet.name)}</title>
<link rel="canonical" href="{escape(url)}">
<meta property="og:url" content="{escape(url)}">
<meta property="og:title" content="{escape(piece.headline)}">
<meta name="author" content="{byline}">
{meta_date}
</head>
<body>
{cookie}
<header><div class="logo">{escape(outlet.name)}</div><nav><ul>{nav}</ul></nav>
<form class="search"><input name="q" placeholder="Search"></form></header>
<main>
<article>
<h1>{escape(piece.headline)}</h1>
<div class="byline">{byline} · <time>{escape(shown_date)}</time></div>
{paragraphs}
</article>
{author_box}
<section class="related"><h2>{escape(outlet.related)}</h2><ul>{related_items}</ul></section>
<div class="share">Share: Facebook · X · Telegram · WhatsApp · Email</div>
</main>
<footer><p>{escape(outlet.footer)}</p><p><a href="/about">About</a> · <a href="/privacy">Privacy</a>
· <a href="/contact">Contact</a></p></footer>
</body>
</html>
"""


def rss(outlet: Outlet, base: str, items: list[tuple[Piece, str, datetime]],
        sources: dict[str, tuple[str, str]] | None = None) -> str:
    parts = []
    for piece, url, published in items:
        date = persian_date(published, numeric=True) if outlet.id == "payam-daily" \
            else format_datetime(published, usegmt=True)
        source = ""
        if sources and piece.outlet in sources:
            name, home = sources[piece.outlet]
            source = f'<source url="{escape(home)}">{escape(name)}</source>'
        author = f"<dc:creator>{escape(piece.author)}</dc:creator>" if piece.author else ""
        parts.append(
            f"<item><title>{escape(piece.headline)}</title><link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(url)}</guid><pubDate>{date}</pubDate>'
            f"<description>{escape(piece.summary)}</description>{author}{source}</item>")
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{escape(outlet.name)}</title><link>{escape(base)}/</link>"
            f"<description>{escape(outlet.name)}</description><ttl>15</ttl>"
            f"{''.join(parts)}</channel></rss>\n")


def atom(outlet: Outlet, base: str, items: list[tuple[Piece, str, datetime]],
         updated: datetime) -> str:
    entries = []
    for piece, url, published in items:
        entries.append(
            f"<entry><title>{escape(piece.headline)}</title>"
            f'<link rel="alternate" href="{escape(url)}"/>'
            f"<id>tag:{outlet.id},2026:{escape(piece.article_id)}</id>"
            f"<published>{published.isoformat()}</published>"
            f"<updated>{published.isoformat()}</updated>"
            f"<author><name>{escape(piece.author or outlet.name)}</name></author>"
            f"<summary>{escape(piece.summary)}</summary></entry>")
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.language}">'
            f"<title>{escape(outlet.name)}</title><id>{escape(base)}/</id>"
            f'<link rel="self" href="{escape(base)}/feed.atom"/>'
            f"<updated>{updated.isoformat()}</updated>{''.join(entries)}</feed>\n")


def listing(outlet: Outlet, items: list[tuple[Piece, str, datetime]]) -> str:
    nav = "".join(f'<a href="/section/{i}">{escape(n)}</a> ' for i, n in enumerate(outlet.nav))
    cards = "".join(
        f'<div class="card"><h3><a href="{escape(url)}">{escape(piece.headline)}</a></h3>'
        f"<p>{escape(piece.summary)}</p></div>" for piece, url, _ in items)
    return (f'<!DOCTYPE html><html lang="{outlet.language}"><head><meta charset="utf-8">'
            f"<title>{escape(outlet.name)} — Latest</title></head><body><header>{nav}"
            f'<a href="/login">Sign in</a> <a href="/newsletters">Newsletters</a></header>'
            f"<main><h1>Latest news</h1>{cards}</main>"
            f'<footer>{escape(outlet.footer)} <a href="/about">About</a></footer></body></html>')
