"""Benchmark outlets: N plain RSS outlets with M articles each, served as pages of real weight.

The demo's pages are small (about 5 KB, ~1.5 ms to extract), which makes extraction look far
cheaper than it is. A real news page carries most of its weight around the story: inline
styles and scripts, JSON-LD, a mega-menu, tickers, cards of related and most-read stories, a
newsletter form, comments and a long footer. `heavy_article_html` renders that shape (about
60 KB, ~1,800 elements), which trafilatura extracts in ~15 ms here: a little under the 16-23 ms
DESIGN.md section 7 measured on real news pages, so the CPU floor it sets is, if anything, high.
(A few more related cards push trafilatura into its fallback comparison and ~35 ms per page;
that cliff is left out on purpose.) The story text is the demo corpus's own.

Outlets listen on 127.0.2.1, 127.0.2.2, ... so each is a host of its own (per-host politeness
applies as on the web); every piece is a distinct story.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from html import escape

from monitor.demo.corpus import Piece, load_pieces
from monitor.demo.outlets import Outlet

_SECTIONS = ("World", "Middle East", "Politics", "Business", "Markets", "Technology", "Science",
             "Health", "Culture", "Sport", "Opinion", "Video")
_SECTIONS_FA = ("جهان", "خاورمیانه", "سیاست", "اقتصاد", "بازار", "فناوری", "دانش", "سلامت",
                "فرهنگ", "ورزش", "دیدگاه", "ویدیو")


def bench_outlets(count: int) -> tuple[Outlet, ...]:
    """`count` RSS outlets, a fifth of them in Persian, each on its own loopback address."""
    return tuple(
        Outlet(f"bench-{i:03d}", f"Bench Outlet {i}", "fa" if i % 5 == 4 else "en",
               f"127.0.2.{i + 1}", "rss", "topic",
               nav=_SECTIONS_FA if i % 5 == 4 else _SECTIONS,
               footer=f"Bench Outlet {i} is a fictional newsroom for benchmarks.",
               cookie="We and our partners store cookies on your device.",
               related="More stories")
        for i in range(count))


def bench_pieces(outlets: tuple[Outlet, ...], per_outlet: int, rounds: int = 1) -> list[Piece]:
    """`per_outlet` distinct pieces per outlet in each round, in the outlet's language; corpus
    articles are reused with an outlet- and round-specific lede so no two pieces are copies."""
    corpus = load_pieces()
    by_language = {lang: [p for p in corpus if p.language == lang] for lang in ("en", "fa")}
    pieces = []
    for number in range(1, rounds + 1):
        for index, outlet in enumerate(outlets):
            pool = by_language[outlet.language]
            for j in range(per_outlet):
                base = pool[(index * per_outlet + j + number * 7) % len(pool)]
                tag = f"{outlet.id}-r{number}-{j}"
                lede = (f"{base.paragraphs[0]} (Dispatch {tag}: filed for {outlet.name}, "
                        f"round {number}, item {j}.)")
                pieces.append(replace(
                    base, article_id=tag, outlet=outlet.id, round=number,
                    headline=f"{base.headline} ({number}.{j})",
                    paragraphs=(lede, *base.paragraphs[1:]),
                    slug=f"{base.slug[:40]}-{tag}"))
    return pieces


def _style() -> str:
    rules = []
    for i in range(160):
        rules.append(f".c{i}{{margin:{i % 7}px {i % 5}px;padding:{i % 3}px;"
                     f"color:#{(i * 2654435761) % 0xFFFFFF:06x};font-size:{12 + i % 9}px}}")
    return "".join(rules)


def _scripts() -> str:
    config = {"site": "bench", "ads": [{"slot": f"slot-{i}", "sizes": [[300, 250], [728, 90]],
                                        "targeting": {"section": "world", "pos": i}}
                                       for i in range(40)],
              "experiments": {f"exp{i}": {"bucket": i % 4, "weight": 0.25} for i in range(60)}}
    functions = "".join(f"function f{i}(a,b){{var x=a*{i}+b;if(x>{i * 3})"
                        f"{{return x-{i}}}return x+{i}}}" for i in range(150))
    return (f"<script>window.__CONFIG__={json.dumps(config)};</script>"
            f"<script>{functions}</script>"
            "<script async src=\"/static/analytics.js\"></script>")


_STYLE = _style()
_SCRIPTS = _scripts()


def _card(url: str, title: str, summary: str, n: int) -> str:
    return (f'<div class="card c{n % 160}"><a href="{escape(url)}"><figure><img src="/img/{n}.jpg" '
            f'alt="" width="320" height="180" loading="lazy"></figure>'
            f'<h3 class="card-title">{escape(title)}</h3></a>'
            f'<p class="card-summary">{escape(summary[:160])}</p>'
            f'<span class="card-meta">{n % 59 + 1} min ago</span></div>')


def heavy_article_html(outlet: Outlet, piece: Piece, url: str, published: datetime,
                       related: list[tuple[str, str]]) -> str:
    rtl = outlet.language == "fa"
    sections = outlet.nav or _SECTIONS
    mega = "".join(
        f'<li class="menu c{i}"><a href="/{i}/">{escape(name)}</a><ul class="sub">'
        + "".join(f'<li><a href="/{i}/{k}/">{escape(name)} {k}</a></li>' for k in range(16))
        + "</ul></li>" for i, name in enumerate(sections))
    others = [(u, t) for u, t in related] or [(url, piece.headline)]
    ticker = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>' for u, t in others * 2)
    body = []
    for i, paragraph in enumerate(piece.paragraphs):
        body.append(f"<p>{escape(paragraph)}</p>")
        if i % 3 == 2:
            u, t = others[i % len(others)]
            body.append(f'<aside class="inline-related"><span>Read more</span> '
                        f'<a href="{escape(u)}">{escape(t)}</a></aside>'
                        f'<div class="ad-slot c{i}" id="slot-{i}" data-sizes="300x250"></div>')
    cards = "".join(_card(u, t, piece.summary, n) for n, (u, t) in enumerate(others * 5))
    most_read = "".join(f'<li><span class="rank">{n + 1}</span><a href="{escape(u)}">'
                        f"{escape(t)}</a></li>" for n, (u, t) in enumerate((others * 4)[:10]))
    comments = "".join(
        f'<li class="comment"><div class="who">reader{n}</div><div class="when">{n + 2}h</div>'
        f"<p>Comment number {n} on this story, with an opinion of its own about the events "
        f"described and a question for the editors.</p><button>Reply</button>"
        f"<button>Like {n * 3}</button></li>" for n in range(22))
    footer = "".join(f'<li><a href="/page/{n}">{escape(sections[n % len(sections)])} '
                     f"page {n}</a></li>" for n in range(110))
    jsonld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                         "headline": piece.headline, "datePublished": published.isoformat(),
                         "author": {"@type": "Person", "name": piece.author or "Staff"},
                         "publisher": {"@type": "Organization", "name": outlet.name},
                         "mainEntityOfPage": url}, ensure_ascii=False)
    metas = "".join(f'<meta name="bench:key{n}" content="value {n} for {outlet.id}">'
                    for n in range(22))
    return f"""<!DOCTYPE html>
<html lang="{outlet.language}" dir="{'rtl' if rtl else 'ltr'}">
<head>
<meta charset="utf-8">
<title>{escape(piece.headline)} | {escape(outlet.name)}</title>
<link rel="canonical" href="{escape(url)}">
<meta property="og:url" content="{escape(url)}">
<meta property="og:title" content="{escape(piece.headline)}">
<meta property="og:description" content="{escape(piece.summary)}">
<meta property="article:published_time" content="{published.isoformat()}">
<meta name="author" content="{escape(piece.author or 'Staff')}">
{metas}
<style>{_STYLE}</style>
<script type="application/ld+json">{jsonld}</script>
{_SCRIPTS}
</head>
<body class="article-page">
<div class="cookie-banner" role="dialog"><p>{escape(outlet.cookie)}</p>
<button>Accept all</button><button>Manage choices</button></div>
<header class="site-header"><div class="logo">{escape(outlet.name)}</div>
<nav class="mega"><ul>{mega}</ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"><button>Go</button>
</form><a href="/login">Sign in</a> <a href="/subscribe">Subscribe</a></header>
<div class="ticker"><span>Breaking</span><ul>{ticker}</ul></div>
<main>
<article class="story">
<div class="kicker"><a href="/{escape(sections[0])}/">{escape(sections[0])}</a></div>
<h1>{escape(piece.headline)}</h1>
<p class="standfirst">{escape(piece.summary)}</p>
<div class="byline">By {escape(piece.author or 'Staff')} · <time datetime="{published.isoformat()}">
{published:%d %B %Y, %H:%M} UTC</time></div>
<figure class="lead"><img src="/img/lead.jpg" alt="" width="1200" height="675">
<figcaption>File photo. The scene described in this report.</figcaption></figure>
<div class="story-body">
{"".join(body)}
</div>
<ul class="tags"><li><a href="/tag/iran">Iran</a></li><li><a href="/tag/world">World</a></li>
<li><a href="/tag/politics">Politics</a></li></ul>
<div class="share"><a href="#">Facebook</a><a href="#">X</a><a href="#">Telegram</a>
<a href="#">WhatsApp</a><a href="#">Email</a><a href="#">Copy link</a></div>
</article>
<aside class="author-bio"><strong>{escape(piece.author or 'Staff')}</strong> writes about the
region for {escape(outlet.name)}.</aside>
<section class="related"><h2>{escape(outlet.related)}</h2>{cards}</section>
<section class="most-read"><h2>Most read</h2><ol>{most_read}</ol></section>
<form class="newsletter"><h2>The daily briefing</h2><input name="email" placeholder="Email">
<label><input type="checkbox"> I agree to the terms</label><button>Sign up</button></form>
<section class="comments"><h2>Comments</h2><ol>{comments}</ol></section>
</main>
<footer><ul>{footer}</ul><p>{escape(outlet.footer)}</p></footer>
</body>
</html>
"""
