"""The hostile world, round two: one daemon per database (9), verified backups (10), secrets
in feed URLs (11), bounded search (14) and messages a user can act on (15)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from tests.hostile_checks import Check, _config, expect
from tests.hostile_ops import _rows, polled


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from tests.conftest import REPO

    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


# -- 9. one daemon per database ---------------------------------------------------------------

def _second_lock(what: str, spell: Callable[[Path], Path]) -> Check:
    def run() -> str:
        from monitor.errors import MonitorError
        from monitor.service.lifecycle import InstanceLock

        with tempfile.TemporaryDirectory() as tmp:
            real = Path(tmp) / "data" / "feed-monitor.db"
            real.parent.mkdir()
            real.touch()
            other = spell(real)
            with InstanceLock(real):
                try:
                    with InstanceLock(other):
                        pass
                except MonitorError as exc:
                    return str(exc)[:80]
        raise AssertionError(f"a second daemon started on {what}")
    return Check(f"second daemon through {what} refused", "lock", run)


def _symlinked_dir(real: Path) -> Path:
    link = real.parent.parent / "link"
    link.symlink_to(real.parent)
    return link / real.name


def _symlinked_file(real: Path) -> Path:
    link = real.parent.parent / "db-link.db"
    link.symlink_to(real)
    return link


def _unwritable_lock(what: str, database: str) -> Check:
    def run() -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = database.replace("TMP", tmp)
            if what == "a directory in the lock's place":
                Path(f"{path}.lock").mkdir(parents=True)
            settings = _config(Path(tmp), "", {})
            toml = settings.config_path.read_text().replace('path = "test.db"',
                                                            f'path = "{path}"')
            settings.config_path.write_text(toml)
            done = _cli(settings.config_path, "run")
        expect(done.returncode != 0 and "Traceback" not in done.stderr,
               f"exit {done.returncode}: {done.stderr[-300:]}")
        expect("lock" in done.stderr or "database" in done.stderr, done.stderr[-300:])
        return done.stderr.strip().splitlines()[-1][:100]
    return Check(f"run with {what}", "lock", run)


def _once_next_to_daemon(args: tuple[str, ...]) -> Check:
    def run() -> str:
        from monitor.service.lifecycle import InstanceLock

        with polled(1) as (settings, _, _folder), InstanceLock(settings.database.path):
            done = _cli(settings.config_path, "once", *args)
        expect(done.returncode != 0 and "daemon" in done.stderr and "UNIQUE" not in
               done.stderr and "Traceback" not in done.stderr, done.stderr[-300:])
        return done.stderr.strip()[:100]
    return Check(f"once {' '.join(args)} next to the daemon", "messages", run)


def _unique_translated() -> str:
    from storage.connection import translate

    exc = sqlite3.IntegrityError("UNIQUE constraint failed: items.source_id, items.entry_key")
    message = str(translate(exc))
    expect("UNIQUE" not in message and "daemon" in message, message)
    return message[:90]


# -- 10. backup of a corrupt database ---------------------------------------------------------

def _corrupt(how: str, db: Path) -> None:
    size = db.stat().st_size
    pages = size // 4096
    rng = random.Random(16)
    with db.open("r+b") as f:
        if how == "truncated":
            f.truncate(size * 6 // 10)
            return
        for page in range(pages - 12, pages - 2, 3):
            f.seek(page * 4096 + (0 if how != "torn tail" else 2048))
            f.write(bytes(4096) if how == "zeroed pages" else rng.randbytes(2048))


def _backup(how: str | None) -> Check:
    def run() -> str:
        from monitor.commands import operations as commands
        from storage import StorageError, Store

        with tempfile.TemporaryDirectory() as tmp:
            settings = _config(Path(tmp), "", {})
            store = Store.open(settings.database.path)
            store._conn.executemany("INSERT INTO dedup_params (params) VALUES (?)",
                                   [(f"filler {i} " + "x" * 300,) for i in range(3000)])
            store._conn.commit()
            store.close()
            if how is not None:
                _corrupt(how, settings.database.path)
            target = Path(tmp) / "copy.db"
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    commands.backup(settings, target)
            except StorageError as exc:
                expect(how is not None, f"a sound database: {exc}")
                expect(not target.exists(), "a damaged copy was left behind")
                return str(exc)[:100]
            expect(how is None, "a corrupt database was backed up as a success")
            check = _rows(target, "PRAGMA integrity_check")[0][0]
            expect(check == "ok", check)
            return "verified copy"
    return Check(f"backup of a {how or 'sound'} database", "backup", run)


# -- 11. credentials in feed URLs are stored redacted ----------------------------------------

def _redacted(what: str, query: str, secret: str, userinfo: bool = False) -> Check:
    def run() -> str:
        with polled(2, query) as (settings, server, _):
            if userinfo:  # poll once more through user:pw@ (the server ignores it)
                from monitor.service.app import poll_sources, running

                url = settings.sources[0].url.replace("http://", f"http://u:{secret}@")
                settings = replace(settings, sources=(replace(settings.sources[0], url=url),))

                async def go() -> None:
                    async with running(settings) as deps:
                        await poll_sources(deps, ["s"])
                asyncio.run(go())
            db = settings.database.path
            stored = [r[0] for r in _rows(db, "SELECT url FROM sources")] + [
                r[0] for r in _rows(db, "SELECT url FROM fetches")]
            asked = [path for path, _ in server.requests]
        expect(not any(secret in u for u in stored), f"stored: {stored}")
        expect(userinfo or any(secret in p for p in asked), "the real URL was not fetched")
        return stored[0][-60:]
    return Check(f"feed URL with {what} stored redacted", "secrets", run)


# -- 14. search bounded in size and time ------------------------------------------------------

def _search(what: str, query: str, needle: str, seconds: float | None = None) -> Check:
    def run() -> str:
        from storage import Store
        from storage.queries import BadQuery

        with polled(3) as (settings, _, _folder):
            if seconds is None:
                done = _cli(settings.config_path, "search", query)
                expect(done.returncode == 2 and needle in done.stderr, done.stderr[-200:])
                return done.stderr.strip()[:100]
            store = Store.open(settings.database.path)
            store._conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                                   [(10_000 + i, f"w{i} strike", "tabriz workers strike")
                                    for i in range(3000)])
            store._conn.commit()
            try:
                store.search(query, seconds=seconds)
            except BadQuery as exc:
                expect(needle in str(exc), str(exc))
                return str(exc)[:100]
            finally:
                store.close()
        raise AssertionError("the search ran unbounded")
    return Check(f"search: {what}", "search", run)


# -- 15. a TLS handshake cut short says so ----------------------------------------------------

@contextlib.contextmanager
def _tls_peer(mode: str) -> Iterator[int]:
    """A TCP server that misbehaves during the TLS handshake."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(5)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = sock.accept()
                with conn:
                    if mode != "close at once":
                        conn.recv(4096)
                    if mode == "half a ServerHello":
                        conn.sendall(b"\x16\x03\x03\x00\x50\x02\x00\x00\x4c\x03\x03")
                    elif mode == "plain HTTP answer":
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    threading.Thread(target=serve, daemon=True).start()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def _tls(mode: str, needle: str) -> Check:
    def run() -> str:
        from monitor.errors import NetworkError
        from monitor.fetching.http import Fetcher
        from tests.test_http import settings

        async def go(port: int) -> str:
            fetcher = Fetcher(settings())
            try:
                await fetcher.fetch(f"https://127.0.0.1:{port}/feed")
            except NetworkError as exc:
                return str(exc)
            finally:
                await fetcher.aclose()
            return "no error"
        with _tls_peer(mode) as port:
            message = asyncio.run(go(port))
        expect("TLS handshake" in message and needle in message, message)
        return message[:100]
    return Check(f"TLS: server sends {mode}" if mode != "close at once" else
                 "TLS: server closes at once", "messages", run)


CHECKS: list[Check] = [
    _second_lock("a symlinked directory", _symlinked_dir),
    _second_lock("a symlink to the file", _symlinked_file),
    _second_lock("a path with ..", lambda p: p.parent / ".." / p.parent.name / p.name),
    _second_lock("a relative path", lambda p: Path(os.path.relpath(p))),
    _unwritable_lock("the database on read-only /proc", "/proc/feed-monitor.db"),
    _unwritable_lock("the database on read-only /sys", "/sys/feed-monitor.db"),
    _unwritable_lock("a directory in the lock's place", "TMP/x/feed-monitor.db"),
    _once_next_to_daemon(("--all",)),
    _once_next_to_daemon(("--source", "s")),
    _once_next_to_daemon(()),
    Check("a UNIQUE conflict explained", "messages", _unique_translated),
    _backup(None), _backup("garbage pages"), _backup("zeroed pages"), _backup("torn tail"),
    _backup("truncated"),
    _redacted("?api_key=", "?api_key=K3y-0001", "K3y-0001"),
    _redacted("?token=", "?x=1&token=T0k-0002", "T0k-0002"),
    _redacted("&sig=", "?a=b&sig=S1g-0003", "S1g-0003"),
    _redacted("?password=", "?password=Pw-0004", "Pw-0004"),
    _redacted("?client_secret=", "?client_secret=Cs-0005", "Cs-0005"),
    _redacted("user:pw@", "", "Us3r-pw-0006", userinfo=True),
    _search("5,000 OR terms", " OR ".join(f"w{i}" for i in range(2500)), "too large"),
    _search("65 terms", " ".join(f"w{i}" for i in range(65)), "too large"),
    _search("a 3,000-character term", "x" * 3000, "too large"),
    _search("a prefix query out of time", "w*", "stopped", seconds=0.0),
    _search("an OR query out of time", "strike OR tabriz OR workers", "stopped", seconds=0.0),
    _tls("close at once", "server"),
    _tls("half a ServerHello", "closed the connection mid-handshake"),
    _tls("nothing after the ClientHello", "server"),
    _tls("plain HTTP answer", "wrong version number"),
]


def all_checks() -> list[Check]:
    from tests import hostile_checks, hostile_ops

    return [*hostile_checks.CHECKS, *hostile_ops.CHECKS, *CHECKS]
