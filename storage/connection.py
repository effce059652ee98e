"""The connection every part of the Store shares, and its transaction rules.

Autocommit mode with every write transaction opened as ``BEGIN IMMEDIATE`` (a deferred BEGIN
that reads and then writes fails at once when another connection committed in between); sqlite3
errors become `StorageError`s here, in one place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from storage.errors import DatabaseLocked, StorageError

_T = TypeVar("_T")


def translate(exc: sqlite3.Error) -> StorageError:
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


class Connected:
    """One SQLite connection: write transactions, reads, errors translated."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.db = Database(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, opened with BEGIN IMMEDIATE; rolled back on any exception."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate(exc) from None
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise translate(exc) from None

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        try:
            return list(self.conn.execute(sql, params))
        except sqlite3.Error as exc:
            raise translate(exc) from None

    def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            with self.write() as conn:
                return fn(conn)
        except sqlite3.Error as exc:
            raise translate(exc) from None
