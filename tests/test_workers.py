"""The worker pool: hard timeouts kill the process, crashes are survived, workers are recycled."""

from __future__ import annotations

import asyncio

import pytest

from monitor.errors import WorkerCrashed, WorkerError, WorkerTimeout
from monitor.workers import WorkerPool


def run(coro_fn, size: int = 1, recycle_after: int = 500):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        pool = WorkerPool(size, recycle_after)
        try:
            return await coro_fn(pool)
        finally:
            await pool.close()
    return asyncio.run(main())


def test_timeout_kills_the_worker_and_the_pool_recovers() -> None:
    async def go(pool: WorkerPool) -> tuple[float, int]:
        with pytest.raises(WorkerTimeout):
            await pool.run("probe_sleep", 30.0, timeout=0.3)
        value = await pool.run("probe_sleep", 0.0, timeout=5.0)
        return value, pool.replaced
    value, replaced = run(go)
    assert value == 0.0 and replaced == 1


def test_crash_is_an_error_and_the_pool_recovers() -> None:
    async def go(pool: WorkerPool) -> int:
        with pytest.raises(WorkerCrashed):
            await pool.run("probe_crash", timeout=5.0)
        await pool.run("probe_sleep", 0.0, timeout=5.0)
        return pool.replaced
    assert run(go) == 1


def test_workers_are_recycled_after_n_tasks() -> None:
    async def go(pool: WorkerPool) -> int:
        for _ in range(5):
            await pool.run("probe_sleep", 0.0, timeout=5.0)
        return pool.replaced
    assert run(go, recycle_after=2) == 2


def test_real_task_parses_a_feed_in_a_worker() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<item><title>Strike in Tabriz</title><link>https://x.test/1</link></item>"
            b"</channel></rss>")

    async def go(pool: WorkerPool):  # type: ignore[no-untyped-def]
        return await pool.run("parse_feed", body, "application/rss+xml",
                              "https://x.test/feed", timeout=10.0)
    parsed = run(go)
    assert [e.title for e in parsed.entries] == ["Strike in Tabriz"]


def test_worker_killed_from_outside_mid_task_is_replaced() -> None:
    import os
    import signal

    async def go(pool: WorkerPool) -> int:
        task = asyncio.create_task(pool.run("probe_sleep", 10.0, timeout=30.0))
        await asyncio.sleep(0.5)
        victim = next(w for w in pool._all if w.tasks_done == 0)
        os.kill(victim.process.pid, signal.SIGKILL)  # the OOM killer, an operator, a bug
        with pytest.raises(WorkerCrashed):
            await task
        assert await pool.run("probe_sleep", 0.0, timeout=5.0) == 0.0
        return pool.replaced
    assert run(go) == 1


def test_analysis_in_a_worker_with_its_context_sent_once() -> None:
    """The topic rules travel as a context: unpickled once per worker, replaced when a task
    brings another; the worker's analysis equals the in-process one."""
    from pathlib import Path

    from monitor.configuration.settings import load_settings
    from monitor.matching.topics import TopicsConfig
    from monitor.polling.analysis import analyse
    from monitor.workers import WorkerContext

    config = load_settings(Path(__file__).parent.parent / "config" / "monitor.toml").topics
    title = "Iranian diplomat defects, seeks asylum in Norway"
    text = ("A senior Iranian diplomat has defected and asked for asylum in Norway, officials "
            "said on Monday.\n") * 4
    rules, empty = WorkerContext.of(config), WorkerContext.of(TopicsConfig())

    async def go(pool: WorkerPool):  # type: ignore[no-untyped-def]
        first = await pool.run("analyse", title, text, "en", timeout=10.0, context=rules)
        worker = pool._all[0]
        held = worker.context_key
        again = await pool.run("analyse", title, text, "en", timeout=10.0, context=rules)
        other = await pool.run("analyse", title, text, "en", timeout=10.0, context=empty)
        return first, held, again, other, worker.context_key

    first, held, again, other, last = run(go)
    assert first == again == analyse(config, title, text, "en")
    assert [t.topic for t in first.topics] == ["defections"]
    assert held == rules.key and last == empty.key and other.topics == ()
    assert first.fingerprint is not None and first.language == "en"


def test_a_failed_task_makes_the_pool_send_its_context_again() -> None:
    """A task that brought a new context and failed leaves the worker's context unknown: the
    next task sends its context again instead of assuming the old one is still there."""
    from monitor.matching.topics import TopicsConfig
    from monitor.workers import WorkerContext

    first, second = WorkerContext.of(TopicsConfig()), WorkerContext.of(TopicsConfig(aliases=(
        ("x", ("y",)),)))

    async def go(pool: WorkerPool):  # type: ignore[no-untyped-def]
        await pool.run("analyse", "t", "some text", "en", timeout=10.0, context=first)
        with pytest.raises(WorkerError):  # a text that is not a string fails inside the task
            await pool.run("analyse", "t", 123, "en", timeout=10.0, context=second)
        return await pool.run("analyse", "t", "some text", "en", timeout=10.0, context=first)

    assert run(go).language == "en"


def test_workers_start_with_the_extractor_caches_filled_by_the_forkserver() -> None:
    """monitor.parsing.warmup runs in the forkserver: a fresh worker, and its replacement after a
    crash, already hold trafilatura's stop-word union instead of building it on a page."""
    async def go(pool: WorkerPool) -> tuple[bool, bool]:
        first = await pool.run("probe_warm", timeout=5.0)
        with pytest.raises(WorkerCrashed):
            await pool.run("probe_crash", timeout=5.0)
        return first, await pool.run("probe_warm", timeout=5.0)
    assert run(go) == (True, True)


def test_one_article_task_chooses_the_text_and_analyses_exactly_it() -> None:
    """Task ``article`` extracts the page, chooses the item's title and text (the page's, or
    the feed's when that is longer) and analyses exactly the chosen text; a fault in our own
    analysis keeps the extraction and leaves the analysis to the caller."""
    from pathlib import Path

    from monitor.configuration.settings import load_settings
    from monitor.polling.analysis import AnalysedArticle, analyse
    from monitor.workers import WorkerContext

    config = load_settings(Path(__file__).parent.parent / "config" / "monitor.toml").topics
    story = ("Two officers of the Revolutionary Guards have defected and asked for asylum "
             "abroad, their lawyer said on Tuesday, citing threats against their families. ")
    html = ("<html lang='en'><head><title>Guards officers defect</title></head><body>"
            "<nav><a href='/'>Home</a></nav><article><h1>Guards officers defect</h1>"
            + "".join(f"<p>{story} Paragraph {i}.</p>" for i in range(5))
            + "</article></body></html>")
    url = "https://news.example.com/a/1"
    feed_text = "Protesters marched in Tabriz. " * 200  # longer than the page: the feed wins
    rules, broken = WorkerContext.of(config), WorkerContext.of(None)

    async def go(pool: WorkerPool):  # type: ignore[no-untyped-def]
        kept = await pool.run("article", html, url, "Officers defect", "", "en",
                              timeout=10.0, context=rules)
        feed_wins = await pool.run("article", html, url, "Officers defect", feed_text, "en",
                                   timeout=10.0, context=rules)
        faulty = await pool.run("article", html, url, "Officers defect", "", "en",
                                timeout=10.0, context=broken)
        return kept, feed_wins, faulty

    kept, feed_wins, faulty = run(go)
    assert isinstance(kept, AnalysedArticle) and kept.article.status == "ok"
    assert kept.article.title == "Officers defect" and "Paragraph 4" in kept.article.text
    assert kept.analysis == analyse(config, kept.article.title, kept.article.text, "en")
    assert [t.topic for t in kept.analysis.topics] == ["defections"]
    assert feed_wins.article.status == "fallback"
    assert feed_wins.article.text.strip() == feed_text.strip()
    assert feed_wins.analysis == analyse(config, "Officers defect", feed_wins.article.text, "en")
    assert "protests" in [t.topic for t in feed_wins.analysis.topics]
    assert faulty.article == kept.article and faulty.analysis is None


def test_task_errors_cross_the_pipe_as_typed_values() -> None:
    """Our own error raised in a task arrives as itself (a ParseError stays a ParseError with
    its message); a foreign one arrives as WorkerTaskFailed naming its type."""
    from monitor.errors import ParseError, WorkerTaskFailed

    async def go(pool: WorkerPool) -> tuple[BaseException, BaseException]:
        with pytest.raises(ParseError) as parse:
            await pool.run("parse_feed", b"", "application/rss+xml", "https://x.test/f",
                           timeout=10.0)
        with pytest.raises(WorkerTaskFailed) as other:
            await pool.run("probe_sleep", "not a number", timeout=10.0)
        return parse.value, other.value

    parse, other = run(go)
    assert type(parse) is ParseError and "failed" not in str(parse)
    assert isinstance(other, WorkerTaskFailed) and other.type_name == "TypeError"


def test_tasks_still_waiting_when_the_pool_closes_end_with_an_error() -> None:
    async def main() -> list[object]:
        pool = WorkerPool(1)
        await pool.start()
        running = asyncio.create_task(pool.run("probe_sleep", 0.3, timeout=5.0))
        waiting = asyncio.create_task(pool.run("probe_sleep", 0.0, timeout=5.0))
        await asyncio.sleep(0.1)
        await pool.close()
        return await asyncio.gather(running, waiting, return_exceptions=True)

    done = asyncio.run(asyncio.wait_for(main(), 10.0))
    assert isinstance(done[1], WorkerCrashed) and "closed" in str(done[1])
