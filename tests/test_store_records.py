"""The Store speaks records: no public method hands out a sqlite3.Row or a row as a dict
(a second implementation of the Store must not have to imitate either)."""

from __future__ import annotations

import inspect
import re
from dataclasses import FrozenInstanceError, fields

import pytest

from storage import Store
from storage.queries import EXPORT_COLUMNS
from storage.records import ExportRow, SearchHit

_LEAK = re.compile(r"\bRow\b|\bdict\b|^Any$")


def _returns() -> dict[str, str]:
    methods = inspect.getmembers(Store, callable)
    return {name: str(inspect.signature(fn).return_annotation) for name, fn in methods
            if not name.startswith("_")}


def test_no_public_store_method_returns_rows_or_dicts() -> None:
    returns = _returns()
    assert {"search", "story_list", "story", "export", "stats", "counts"} <= set(returns)
    leaks = {name: kind for name, kind in returns.items() if _LEAK.search(kind)}
    # a lookup of records by canonical URL, not a row: the one dict the Store returns
    assert leaks == {"fetched_elsewhere": "dict[str, StoredText]"}


def test_query_records_are_frozen_and_export_columns_are_their_fields() -> None:
    hit = SearchHit(1, None, "2026-01-01T00:00:00Z", "Outlet", "en", "t", None, None, -1.0, "s")
    with pytest.raises(FrozenInstanceError):
        hit.snippet = "changed"  # type: ignore[misc]
    # the export's columns, in the order CSV readers of earlier exports rely on
    assert tuple(f.name for f in fields(ExportRow)) == EXPORT_COLUMNS == (
        "id", "story_id", "source_id", "outlet", "first_seen_at", "published_at", "language",
        "title", "url", "canonical_url", "agency", "match_kind", "status", "topics", "related",
        "text")
