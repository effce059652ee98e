"""Entry identity and the per-run plan — pure functions.

**Entry key** (unique per source in ``items``): ``guid:<GUID>``; else ``url:<canonical link>``;
else ``hash:<sha1 of title and date>``. A GUID shared by entries with different links or titles
in one feed (a feed that gives every entry the same GUID) is not trusted: those entries key by
link, or by title and date.

**Known**: an entry is known when its key, its GUID or its canonical link is stored for the
source, so feeds that rotate GUIDs while the link stays cause no re-download. A GUID that comes
back with a different link *and* a different title is a reused GUID: that entry is new.

**Revised**: a known entry whose feed data changed (a newer updated date, or a different hash of
title/summary/content/link) is fetched again; the old text goes to ``item_versions``.
**Retried**: a known entry whose article fetch failed is tried again, at most `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from enum import Enum

from monitor.fetching.urls import canonical_url, is_http_url
from monitor.matching.text import search_form
from monitor.parsing.feeds import Entry
from storage.records import KnownEntry

MAX_ATTEMPTS = 3


class Action(Enum):
    NEW = "new"
    REVISED = "revised"
    RETRY = "retry"


@dataclass(frozen=True)
class Planned:
    entry: Entry
    key: str
    link: str | None  # http(s) link, or None (javascript:, missing)
    canonical: str | None
    action: Action
    known: KnownEntry | None = None


@dataclass(frozen=True)
class Plan:
    work: list[Planned]  # new, revised and retried entries, in feed order
    unchanged: int  # known entries with nothing to do
    deferred: int  # over max_entries_per_run; picked up by the next run


def _canonical(link: str | None) -> str | None:
    if not is_http_url(link):
        return None
    try:
        return canonical_url(link or "")
    except ValueError:
        return None


def _hash_key(entry: Entry) -> str:
    date = entry.published.isoformat() if entry.published else ""
    basis = f"{search_form(entry.title)}\x1f{date}"
    if not entry.title and not entry.published:
        basis += "\x1f" + search_form(entry.summary)[:500]
    return "hash:" + hashlib.sha1(basis.encode("utf-8", "replace")).hexdigest()


def _guid(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = re.sub(r"\s+", " ", raw).strip()
    return raw[:1000] or None


Keyed = list[tuple[Entry, str, str | None, str | None]]


def keyed(entries: list[Entry]) -> Keyed:
    """(entry, key, http link, canonical link) for each entry, untrusted GUIDs demoted."""
    canons = [_canonical(e.link) for e in entries]  # each link made canonical once
    links: dict[str, set[tuple[str | None, str]]] = {}
    for e, canon in zip(entries, canons, strict=True):
        g = _guid(e.guid)
        if g:  # a GUID is trusted only if every entry carrying it is the same article
            links.setdefault(g, set()).add((canon, search_form(e.title)))
    out = []
    seen: Counter[str] = Counter()
    for e, canon in zip(entries, canons, strict=True):
        link = e.link if is_http_url(e.link) else None
        g = _guid(e.guid)
        if g and len(links[g]) == 1:
            key = "guid:" + g
        elif canon:
            key = "url:" + canon
        else:
            key = _hash_key(e)
        seen[key] += 1
        if seen[key] > 1:  # duplicates within one feed: keep the first only
            continue
        out.append((e, key, link, canon))
    return out


def _match(known: list[KnownEntry], key: str, guid: str | None,
           canon: str | None, title: str) -> KnownEntry | None:
    """The stored entry this one is, or None. A known link always wins; a known GUID or key
    counts only if the link agrees (or is missing) or the title is the same, else the GUID
    has been reused for a different story."""
    for k in known:
        if canon and k.canonical_url == canon:
            return k
    for k in known:
        if k.entry_key == key or (guid and k.guid == guid):
            same_link = canon is None or k.canonical_url in (None, canon)
            if same_link or search_form(k.title) == search_form(title):
                return k
    return None


def _fresh_key(entry: Entry, key: str, canon: str | None, known: list[KnownEntry]) -> str:
    """A key for a new entry that does not collide with a stored one (reused GUIDs)."""
    taken = {k.entry_key for k in known}
    if key not in taken:
        return key
    if canon and "url:" + canon not in taken:
        return "url:" + canon
    return _hash_key(entry)


def _changed(entry: Entry, known: KnownEntry) -> bool:
    if entry.updated and known.updated_at and entry.updated > known.updated_at:
        return True
    return known.feed_hash is not None and known.feed_hash != entry.feed_hash


def plan_entries(entries: list[Entry], known: list[KnownEntry], limit: int, *,
                 rows: Keyed | None = None) -> Plan:
    """`rows`: `keyed(entries)`, when the caller has made it already (`lookup_values`)."""
    work: list[Planned] = []
    unchanged = deferred = 0
    for entry, key, link, canon in keyed(entries) if rows is None else rows:
        k = _match(known, key, _guid(entry.guid), canon, entry.title)
        if k is None:
            action: Action | None = Action.NEW
        elif _changed(entry, k):
            action = Action.REVISED
        elif k.status == "error" and k.fetch_attempts < MAX_ATTEMPTS and link:
            action = Action.RETRY
        else:
            action = None
        if action is None:
            unchanged += 1
        elif len(work) >= limit:
            deferred += 1
        else:
            key = k.entry_key if k else _fresh_key(entry, key, canon, known)
            work.append(Planned(entry, key, link, canon, action, k))
    return Plan(work, unchanged, deferred)


def lookup_values(rows: Keyed) -> tuple[list[str], list[str], list[str]]:
    """Keys, GUIDs and canonical links to ask the store about (`rows`: `keyed(entries)`)."""
    return ([key for _, key, _, _ in rows],
            [g for e, _, _, _ in rows if (g := _guid(e.guid))],
            [c for _, _, _, c in rows if c])
