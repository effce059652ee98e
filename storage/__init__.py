"""The SQLite layer of feed-monitor: schema, migrations and the `Store` API.

This package never imports `monitor` (a test enforces it). It speaks its own record types
(`storage.records`) and exposes use-case methods rather than SQL to its callers.
"""

from storage.errors import DatabaseLocked, NotFound, SchemaTooNew, StorageError
from storage.store import Store

__all__ = ["DatabaseLocked", "NotFound", "SchemaTooNew", "StorageError", "Store"]
