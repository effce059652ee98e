"""What each command runs: one small handler per command, looked up by name (`HANDLERS`);
the CLI loads the settings first (`NO_SETTINGS` commands excepted)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

from monitor.commands import operations as commands
from monitor.commands import queries as query_commands
from monitor.configuration.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], int]


def _demo(args: argparse.Namespace) -> int:
    from monitor.demo.run import run_demo
    from monitor.demo.serve import serve_demo

    return asyncio.run(run_demo(Path(args.dir), rounds=args.rounds)) if not args.serve \
        else serve_demo(Path(args.dir), every=args.every)


def _init(args: argparse.Namespace) -> int:
    from monitor.commands import init as init_command

    if args.unit:
        return init_command.print_unit()
    return init_command.init(Path(args.folder), database=args.database, force=args.force)


NO_SETTINGS: dict[str, Callable[[argparse.Namespace], int]] = {"demo": _demo, "init": _init}


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.service.daemon import run_daemon

    return asyncio.run(run_daemon(settings))


def _alerts(settings: Settings, args: argparse.Namespace) -> int:
    if args.alerts_command == "list":
        return commands.alerts_list(settings, limit=args.limit, state=args.state)
    if args.alerts_command == "test":
        return asyncio.run(commands.alerts_test(settings, channel=args.channel))
    return commands.alerts_mute(settings, args.story)


def _web(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.web.serve import run as run_web

    return run_web(settings, host=args.host, port=args.port)


def _sources(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.commands import sources as sc

    action = args.sources_command
    if action == "list":
        return sc.list_sources(settings)
    if action == "add":
        options = {k: getattr(args, k) for k in ("id", "name", "outlet", "language", "country",
                                                 "category", "scope", "affiliation")}
        return asyncio.run(sc.add(settings, args.url, options=options, pick=args.pick,
                                  dry_run=args.dry_run))
    if action == "check":
        return asyncio.run(sc.check(settings, args.ids))
    if action == "import":
        return sc.import_opml(settings, Path(args.file), yes=args.yes)
    return sc.export_opml(settings)


HANDLERS: dict[str, Handler] = {
    "check-config": lambda s, a: commands.check_config(s),
    "migrate": lambda s, a: commands.migrate(s),
    "once": lambda s, a: asyncio.run(commands.once(s, sources=a.source, every=a.all)),
    "run": _run,
    "alerts": _alerts,
    "status": lambda s, a: commands.status(s),
    "sources": _sources,
    "backup": lambda s, a: commands.backup(s, Path(a.path)),
    "rebuild-index": lambda s, a: commands.rebuild_index(s),
    "stories": lambda s, a: query_commands.stories(s, since=a.since, topic=a.topic,
                                                   limit=a.limit, as_json=a.json),
    "show": lambda s, a: query_commands.show(s, a.story),
    "search": lambda s, a: query_commands.search(s, a.query, limit=a.limit, topic=a.topic,
                                                 source=a.source, since=a.since, lang=a.lang,
                                                 as_json=a.json),
    "export": lambda s, a: query_commands.export(s, fmt=a.format, since=a.since, topic=a.topic),
    "stats": lambda s, a: query_commands.stats(s, since=a.since),
    "serve": lambda s, a: query_commands.serve(s, host=a.host, port=a.port),
    "web": _web,
    "reextract": lambda s, a: asyncio.run(query_commands.reextract(s, since=a.since)),
}
