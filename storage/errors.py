"""Errors of the storage layer (storage never imports monitor, so it has its own small tree).

    StorageError                 the database cannot be used as asked
    ├── DatabaseLocked           another connection held the lock past the busy timeout
    ├── SchemaTooNew             the file was migrated by a newer feed-monitor
    └── NotFound                 a row asked for by id does not exist
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of the storage errors; messages are one line and safe to show."""


class DatabaseLocked(StorageError):
    pass


class SchemaTooNew(StorageError):
    pass


class NotFound(StorageError):
    pass
