"""`monitor sources`: list, add, check, import, export.

* ``list``     the configured sources with kind, affiliation, health and next check.
* ``add URL``  discovers what the URL offers (`monitor.commands.discover`), shows a sample of
               entries and what the gate would do with each, then appends a ``[[source]]`` to
               sources.toml (comments and layout kept); ``--dry-run`` only shows.
* ``check``    one probe per source (all, or the ids given): status, kind, entries, newest
               entry, problems. Exit 1 if any fails. Writes nothing.
* ``import``   an OPML file: shows what it would add and what it refuses (duplicate URLs,
               unusable outlines). It is a dry run unless ``--yes`` is given.
* ``export``   OPML 2.0 on standard output, grouped by category.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tabulate import tabulate

from monitor.commands.discover import Probe, discover, probe
from monitor.commands.opml import read_opml, write_opml
from monitor.commands.sources_file import append_sources, new_id, url_key
from monitor.configuration.settings import Settings
from monitor.errors import ConfigError, MonitorError
from monitor.fetching.http import Fetcher
from monitor.matching.gate import Gate
from monitor.matching.text import one_line
from monitor.service.app import open_store, utc_now
from monitor.workers import WorkerPool
from storage.records import iso

SAMPLE = 8
_ARABIC = range(0x0600, 0x0700)


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[tuple[Fetcher, WorkerPool]]:
    fetcher = Fetcher(settings.fetch)
    pool = WorkerPool(min(2, settings.extraction.workers), settings.extraction.recycle_after)
    try:
        await pool.start()
        yield fetcher, pool
    finally:
        await fetcher.aclose()
        await pool.close()


def list_sources(settings: Settings) -> int:
    store = open_store(settings)
    h = settings.health
    try:
        health = {s.id: s for s in store.source_health(utc_now(), h.failing_after,
                                                       h.silent_factor, h.min_history)}
        due = {sid: iso(store.source_state(sid).next_check_at) for sid in health}
    finally:
        store.close()
    rows = []
    for s in settings.sources:
        state = health.get(s.id)
        rows.append([s.id, s.kind, s.affiliation or "", s.country or "", s.language,
                     (state.state if state else "new") if s.enabled else "disabled",
                     state.error_count if state else 0,
                     state.last_success_at if state and state.last_success_at else "-",
                     due.get(s.id, "-") if s.enabled else "-"])
    print(tabulate(rows, headers=["source", "kind", "affiliation", "country", "lang", "health",
                                  "errors", "last success", "next check"]))
    return 0


def _language(p: Probe) -> str:
    titles = " ".join(e.title for e in (p.parsed.entries[:SAMPLE] if p.parsed else []))
    return "fa" if sum(ord(ch) in _ARABIC for ch in titles) > len(titles) // 4 else "en"


def _print_probe(p: Probe, gate: Gate | None) -> None:
    assert p.parsed is not None
    print(f"{p.kind}: {p.url}  ({p.via}; {len(p.parsed.entries)} entries"
          + (f"; newest {p.newest:%Y-%m-%d %H:%M}Z" if p.newest else "") + ")")
    rows = []
    for e in p.parsed.entries[:SAMPLE]:
        if gate is None:
            verdict = "download (scope topic: no gate)"
        elif gate.check(e.title, e.summary) is None:
            verdict = "skip (no gate term in title or summary)"
        else:
            verdict = "download (gate term found)"
        rows.append([f"{e.published:%Y-%m-%d %H:%M}" if e.published else "-",
                     one_line(e.title, 60), verdict])
    print(tabulate(rows, headers=["published", "title", "the gate would"]))


async def add(settings: Settings, url: str, *, options: dict[str, Any], pick: int,
              dry_run: bool) -> int:
    existing = {url_key(s.url): s.id for s in settings.sources}
    if url_key(url) in existing:
        print(f"already a source: {existing[url_key(url)]} ({url})", file=sys.stderr)
        return 1
    async with _client(settings) as (fetcher, pool):
        found = await discover(fetcher, pool, settings.extraction.parse_timeout, url)
    gate = Gate(settings.topics) if options.get("scope", "general") == "general" else None
    for number, p in enumerate(found, 1):
        print(f"[{number}] ", end="")
        _print_probe(p, gate)
        print()
    if not 1 <= pick <= len(found):
        raise ConfigError([f"--pick: choose 1 to {len(found)}"])
    chosen = found[pick - 1]
    if url_key(chosen.url) in existing:
        print(f"already a source: {existing[url_key(chosen.url)]} ({chosen.url})",
              file=sys.stderr)
        return 1
    name = options.get("name") or chosen.title or url
    table = {
        "id": options.get("id") or new_id(name, {s.id for s in settings.sources}),
        "name": name, "kind": chosen.kind, "url": chosen.url,
        "language": options.get("language") or _language(chosen),
        "outlet": options.get("outlet") or name, "scope": options.get("scope", "general"),
        "affiliation": options.get("affiliation"), "country": options.get("country"),
        "category": options.get("category"),
    }
    if dry_run:
        print(f"would add [{pick}] as source '{table['id']}' (dry run: nothing written)")
        return 0
    path = append_sources(settings, [table])
    print(f"added source '{table['id']}' ({chosen.kind}) to {path}; "
          "send the daemon SIGHUP (systemctl reload) to start polling it")
    return 0


async def check(settings: Settings, ids: list[str]) -> int:
    unknown = [i for i in ids if settings.source(i) is None]
    if unknown:
        raise ConfigError([f"unknown source id: {', '.join(unknown)}"])
    chosen = [s for s in settings.sources if not ids or s.id in ids]
    limit = asyncio.Semaphore(8)
    async with _client(settings) as (fetcher, pool):
        async def one(s: Any) -> Probe:
            async with limit:
                return await probe(fetcher, pool, settings.extraction.parse_timeout, s.url,
                                   s.kind)
        probes = await asyncio.gather(*(one(s) for s in chosen))
    rows, failed = [], 0
    for s, p in zip(chosen, probes, strict=True):
        failed += not p.ok
        problem = p.error or ("no entries" if p.parsed is not None and not p.ok else "")
        rows.append([s.id, s.kind, "ok" if p.ok else "FAIL", p.status or "-",
                     len(p.parsed.entries) if p.parsed else 0,
                     f"{p.newest:%Y-%m-%d %H:%M}" if p.newest else "-",
                     one_line(problem, 70)])
    print(tabulate(rows, headers=["source", "kind", "result", "http", "entries", "newest",
                                  "problems"]))
    print(f"\n{len(chosen) - failed} of {len(chosen)} sources answered with entries")
    return 1 if failed else 0


def import_opml(settings: Settings, path: Path, *, yes: bool) -> int:
    try:
        subscriptions = read_opml(path.read_bytes())
    except OSError as exc:
        raise ConfigError([f"{path}: {exc.strerror or exc}"]) from None
    except MonitorError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    existing = {url_key(s.url): s.id for s in settings.sources}
    taken = {s.id for s in settings.sources}
    tables, rows = [], []
    for sub in subscriptions:
        key = url_key(sub.url)
        if key in existing:
            rows.append([sub.title, sub.url, f"refused: duplicate of {existing[key]}"])
            continue
        if not sub.url.startswith(("http://", "https://")):
            rows.append([sub.title, sub.url, "refused: not an http(s) URL"])
            continue
        source_id = new_id(sub.title, taken)
        taken.add(source_id)
        existing[key] = source_id
        tables.append({"id": source_id, "name": sub.title, "kind": sub.kind, "url": sub.url,
                       "language": sub.language or ("fa" if any(
                           ord(ch) in _ARABIC for ch in sub.title) else "en"),
                       "outlet": sub.title, "scope": "general", "category": sub.category})
        rows.append([sub.title, sub.url, f"add as '{source_id}' ({sub.kind})"])
    print(tabulate(rows, headers=["title", "url", "action"]))
    if not tables:
        print("\nnothing to add")
        return 0
    if not yes:
        print(f"\ndry run: {len(tables)} sources would be added; run again with --yes to "
              "write them")
        return 0
    written = append_sources(settings, tables)
    print(f"\nadded {len(tables)} sources to {written}")
    return 0


def export_opml(settings: Settings) -> int:
    sys.stdout.buffer.write(write_opml(list(settings.sources)))
    sys.stdout.flush()
    return 0
