"""The connection every part of the Store shares, and its transaction rules.

Autocommit mode with every write transaction opened as ``BEGIN IMMEDIATE`` (a deferred BEGIN
that reads and then writes fails at once when another connection committed in between); sqlite3
errors become `StorageError`s here, in one place.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlite_utils import Database

from storage.errors import DatabaseLocked, StorageError

_T = TypeVar("_T")
_P = ParamSpec("_P")


def translate(exc: sqlite3.Error) -> StorageError:
    """The one translation of sqlite3's errors into the storage tree."""
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in message:
        return DatabaseLocked(f"database is locked by another process ({message})")
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in message:
        return StorageError("another process stored the same rows at the same moment (is a "
                            "monitor daemon running on this database?); nothing was written "
                            "by this run")
    if "malformed" in message or "not a database" in message:
        return StorageError(f"database error: {message}: the file is damaged; restore the last "
                            f"good backup, or try `sqlite3 <db> .recover`")
    return StorageError(f"database error: {message}")


def translated(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """A Store method whose sqlite3 errors leave it as `StorageError`s (see `translate`)."""
    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except sqlite3.Error as exc:
            raise translate(exc) from None
    return wrapper


def folder_writable(folder: Path) -> bool:
    """Whether this process may create files in `folder` (root counts as bound by the mode bits,
    so that a read-only copy behaves alike for every user)."""
    if not os.access(folder, os.W_OK):
        return False
    return os.geteuid() != 0 or bool(stat.S_IMODE(folder.stat().st_mode) & 0o222)


def readonly_uri(path: Path) -> str:
    """The URI a read-only connection opens. SQLite's ``mode=ro`` still creates the -wal and
    -shm files of a WAL database, which a user who may not write the folder cannot do; with no
    -wal file no writer has the database open, so ``immutable=1`` reads it creating nothing."""
    quoted = urllib.parse.quote(str(path.absolute()))
    wal = path.with_name(path.name + "-wal")
    if not folder_writable(path.parent) and not wal.exists():
        return f"file:{quoted}?immutable=1"
    return f"file:{quoted}?mode=ro"


class Connected:
    """One SQLite connection: write transactions, reads, errors translated."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._db = Database(conn)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, opened with BEGIN IMMEDIATE; rolled back on any exception."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate(exc) from None
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise translate(exc) from None

    @translated
    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self._conn.execute(sql, params))

    @translated
    def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._transaction() as conn:
            return fn(conn)
