"""The hostile world, round two: operational checks (issue 16, classes 1, 5, 7-11, 14, 15).

Real parts throughout: a test server on loopback, real SQLite files, the worker pool, the CLI
as a subprocess where the point is what a user sees. Each check raises AssertionError with what
it saw (see `tests.hostile_checks.run_checks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.hostile_base import RSS, feed, item
from tests.hostile_checks import NOW, Check, _config, expect
from tests.server import Reply, TestServer

TEXT = ("Workers at the {n} plant in Tabriz stopped work on Monday over unpaid wages, a union "
        "said; the strike spread to {n} other sites by the evening and police were deployed. ")


def _article(n: int) -> Reply:
    body = f"<p>{TEXT.format(n=n) * 6}</p>" * 3
    return Reply(200, {"Content-Type": "text/html; charset=utf-8"},
                 f"<html><head><title>Strike {n}</title></head><body><article>{body}"
                 f"</article></body></html>".encode())


@contextlib.contextmanager
def polled(n: int = 6, query: str = "") -> Iterator[tuple[Any, TestServer, Path]]:
    """A database after one poll of a feed of `n` articles (settings, server, folder)."""
    from monitor.service.app import poll_sources, running

    with TestServer() as server, tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            server.route(f"/a/{i}", _article(i))
        server.route("/feed", Reply(200, RSS, feed(*(
            item(title=f"Strike {i}", link=server.url(f"/a/{i}{query}"), guid=f"g{i}")
            for i in range(n)))))
        settings = _config(Path(tmp), "", {})
        settings = replace(settings, sources=tuple(
            replace(s, url=server.url("/feed") + query, robots="ignore")
            for s in settings.sources))

        async def go() -> None:
            async with running(settings) as deps:
                await poll_sources(deps, ["s"])
        asyncio.run(go())
        yield settings, server, Path(tmp)


def _rows(db: Path, sql: str, *args: Any) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# -- 1. the last resort records an unexpected failure on the source ---------------------------

class _BrokenGate:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def check(self, *args: Any) -> Any:
        raise self.exc


def _last_resort(exc: Exception) -> Check:
    def run() -> str:
        from monitor.service.app import poll_sources, running

        with polled(2) as (settings, server, _):
            settings = replace(settings, sources=tuple(replace(s, scope="general")
                                                       for s in settings.sources))
            server.route("/feed", Reply(200, RSS, feed(item(title="New one", guid="n1",
                                                            link=server.url("/a/9")))))

            async def go() -> Any:
                async with running(settings) as deps:
                    return (await poll_sources(replace(deps, gate=_BrokenGate(exc)), ["s"]))[0]
            report = asyncio.run(go())
            row = _rows(settings.database.path, "SELECT error_count, last_error, next_check_at "
                        "FROM sources WHERE id = 's'")[0]
        expect(report.outcome == "error" and row[0] == 1, f"not recorded: {report} {row}")
        expect(type(exc).__name__ in (row[1] or ""), f"error not named: {row[1]}")
        return f"recorded: {row[1]}"
    return Check(f"last resort records {type(exc).__name__} on the source", "unexpected", run)


# -- 5. rebuild-index interrupted, visible in status, finished on the next start --------------

class _Kill(BaseException):
    """Stands in for SIGKILL at one point of a rebuild (what was committed stays)."""


def _bands(db: Path) -> set[tuple[int, int]]:
    return set(_rows(db, "SELECT band_key, item_id FROM lsh_bands"))


def _interrupted_rebuild(where: str, resume: str) -> Check:
    def run() -> str:
        from monitor.commands import operations as commands
        from monitor.matching import dedup
        from monitor.polling.pipeline import fingerprint_for
        from monitor.service.app import open_store, running
        from storage.rebuild import rebuild

        with polled(8) as (settings, _, folder):
            db = settings.database.path
            shutil.copy(db, folder / "reference.db")
            with contextlib.redirect_stdout(io.StringIO()):
                commands.rebuild_index(replace(settings, database=replace(
                    settings.database, path=folder / "reference.db")))
            store = open_store(settings)
            calls = [0]

            def fingerprint(outlet: str, text: str) -> Any:
                calls[0] += 1
                if where == "first item" and calls[0] == 1:
                    raise _Kill
                return fingerprint_for(store, settings, outlet, text)

            def step(done: int) -> None:
                if where.startswith("batch") and calls[0] >= 2 * int(where.split()[1]):
                    raise _Kill
            with contextlib.suppress(_Kill):
                rebuild(store._transaction, store._conn, fingerprint, dedup.Matcher(), NOW,
                        NOW - timedelta(days=3), batch=2, step=step)
            store.close()
            expect(bool(_rows(db, "SELECT * FROM index_rebuild")), "no trace of the rebuild")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = commands.status(settings)
            expect(code == 1 and "interrupted" in out.getvalue(), "status does not say so")
            with contextlib.redirect_stdout(io.StringIO()):
                if resume == "start":
                    async def start() -> None:
                        async with running(settings):
                            pass
                    asyncio.run(start())
                else:
                    commands.rebuild_index(settings)
            expect(not _rows(db, "SELECT * FROM index_rebuild"), "the rebuild was not finished")
            got, want = _bands(db), _bands(folder / "reference.db")
            expect(got == want and bool(want), f"{len(got)} bands, a full rebuild has {len(want)}")
            return f"{len(got)} bands after resuming, as a full rebuild"
    return Check(f"rebuild-index killed at {where}, finished by {resume}", "rebuild", run)


# -- 7. revisits: per-item outcomes, transient answers retried, nothing blocks the queue -------

def _revisit(what: str, reply: Callable[[TestServer], Reply] | None, transient: bool) -> Check:
    def run() -> str:
        from monitor.service.app import running
        from monitor.service.revisit import revisit_due

        with polled(2) as (settings, server, _):
            db = settings.database.path
            bad = server.url("/bad") if reply is not None else "http://127.0.0.1:9/gone"
            if reply is not None:
                server.route("/bad", reply(server))
            conn = sqlite3.connect(db)
            ids = [r[0] for r in conn.execute("SELECT id FROM items ORDER BY id")]
            conn.execute("UPDATE items SET url = ?, next_revisit_at = '2026-12-01T10:00:00Z' "
                         "WHERE id = ?", (bad, ids[0]))
            conn.execute("UPDATE items SET next_revisit_at = '2026-12-01T11:00:00Z' "
                         "WHERE id = ?", (ids[1],))
            conn.commit()
            conn.close()

            async def go() -> int:
                async with running(settings, clock=lambda: NOW) as deps:
                    return await revisit_due(deps, (3600.0, 7200.0, 86400.0))
            for _ in range(2):  # the same minute twice: nothing raises, nothing is stuck
                asyncio.run(go())
            rows = {r[0]: r[1:] for r in _rows(db, "SELECT id, revisits, revisit_failures, "
                                                  "revisit_error, next_revisit_at FROM items")}
        good, failed = rows[ids[1]], rows[ids[0]]
        expect(good[0] == 1, f"the revisit queued behind did not run: {good}")
        if transient:
            expect(failed[0] == 0 and failed[1] == 1 and failed[3] is not None
                   and failed[3] > "2026-12-01T12:00", f"not retried later: {failed}")
        else:
            expect(failed[0] == 1 and failed[2], f"no outcome recorded: {failed}")
        return f"{'retry' if transient else 'recorded'}: {failed[2]}"
    return Check(f"revisit answered {what}", "revisits", run)


# -- 8. reextract: polling's pre-checks, per-page outcomes, a summary --------------------------

def _reextract(what: str, damage: Callable[[bytes], bytes], count: int = 1) -> Check:
    def run() -> str:
        import zlib

        from monitor.commands import queries as query_commands

        with polled(6) as (settings, _, _folder):
            db = settings.database.path
            conn = sqlite3.connect(db)
            pages = conn.execute("SELECT item_id, html_zlib FROM raw_pages ORDER BY item_id"
                                 ).fetchall()
            for item_id, blob in pages[:count]:
                conn.execute("UPDATE raw_pages SET html_zlib = ? WHERE item_id = ?",
                             (damage(zlib.decompress(blob)), item_id))
            conn.commit()
            conn.close()
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = asyncio.run(query_commands.reextract(settings, since=None))
        text = out.getvalue().strip().splitlines()[-1]
        expect(code == 0 and text.startswith(f"{len(pages)} pages re-extracted"),
               f"exit {code}: {text}")
        expect(f"{count} refused" in text or f"{count} failed" in text, f"summary: {text}")
        return text
    return Check(f"reextract with {what}", "reextract", run)


def _zlib(data: bytes) -> bytes:
    import zlib

    return zlib.compress(data)


REEXTRACT_DAMAGE: dict[str, tuple[Callable[[bytes], bytes], int]] = {
    "a page over the size cap": (lambda b: _zlib(b"<p>" + b"w " * (3 << 20) + b"</p>"), 1),
    "a page over the element cap": (lambda b: _zlib(b"<b>x</b>" * 60000), 1),
    "three pages over the size cap": (lambda b: _zlib(b"<p>" + b"w " * (3 << 20)), 3),
    "a damaged stored blob": (lambda b: b"not zlib at all", 1),
}


CHECKS: list[Check] = [
    _last_resort(RuntimeError("a bug in the gate")),
    _last_resort(KeyError("missing")),
    _last_resort(OverflowError("int too large to convert to float")),
    _interrupted_rebuild("first item", "start"),
    _interrupted_rebuild("batch 1", "start"),
    _interrupted_rebuild("batch 2", "start"),
    _interrupted_rebuild("batch 1", "rebuild-index"),
    _revisit("a redirect to an invalid IDNA host", lambda s: Reply(
        302, {"Location": "http://xn--zz.invalid/a"}), False),
    _revisit("a redirect to a host with ESC", lambda s: Reply(
        302, {"Location": "http://exa\x1bmple.org/a"}), False),
    _revisit("a redirect to a private address", lambda s: Reply(
        302, {"Location": "http://10.0.0.1/a"}), False),
    _revisit("403", lambda s: Reply(403, {}, b"no"), True),
    _revisit("429 with Retry-After", lambda s: Reply(429, {"Retry-After": "120"}, b""), True),
    _revisit("503", lambda s: Reply(503, {}, b"later"), True),
    _revisit("connection refused", None, True),
    *(_reextract(what, damage, count) for what, (damage, count) in REEXTRACT_DAMAGE.items()),
]
