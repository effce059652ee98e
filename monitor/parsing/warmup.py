"""Imported by the worker pool's forkserver, once: load what extraction loads lazily.

trafilatura builds several caches on the first page it sees: the public-suffix list (for the
page's domain), the union of all jusText stop-word lists (~0.3 s) and their frozen set, the
date-finding patterns. In a freshly forked worker that first page costs ~0.3 s of CPU more than
the next one, and workers are forked at start and again each time one is recycled. Built here,
in the forkserver, the caches are inherited by every worker (and their pages shared
copy-on-write).

A failure here must never stop the forkserver (it only forgives ImportError), so everything is
best effort: a worker that finds the caches empty simply builds them itself.
"""

from __future__ import annotations

import gc

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Warm-up page | Example News</title>
<meta property="article:published_time" content="2026-01-02T03:04:05Z">
<meta name="author" content="Desk Editor">
<link rel="canonical" href="https://news.example.com/world/warm-up">
</head><body><nav><a href="/">Home</a> <a href="/world/">World</a></nav>
<article><h1>Warm-up page</h1>
<p>This page exists so that the extractor can load its lookup tables before any real work.
It has a headline, a date, an author and a few paragraphs, like a short news story.</p>
<p>Nothing in it is stored or shown anywhere; the result of extracting it is thrown away.</p>
<p>A third paragraph gives the text enough length to be treated as the main content.</p>
</article><footer>Example News, all rights reserved.</footer></body></html>"""


def warm_up() -> None:
    try:
        from monitor.parsing.extract import extract_article

        extract_article(_PAGE, "https://news.example.com/world/warm-up")
    except Exception:  # best effort, see the module docstring
        pass
    try:  # the jusText fallback runs only on hard pages, so the page above may not reach it
        from justext.core import define_stoplist
        from trafilatura import external

        define_stoplist(external.JT_STOPLIST or external.jt_stoplist_init())
    except Exception:
        pass


warm_up()
# Everything loaded so far lives as long as the forkserver: move it out of the collector's
# reach so that workers do not traverse it (and touch its pages) in every full collection.
gc.freeze()
