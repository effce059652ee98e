"""The `monitor` command: parse arguments, call one function, map errors to exit codes.

Exit codes: 0 success; 1 a monitor error (or `once` where every polled source failed);
2 invalid configuration; 3 a database problem (locked, too new, unreadable); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from monitor.commands.handlers import HANDLERS, NO_SETTINGS
from monitor.commands.parser import COMMANDS, build_parser

__all__ = ["COMMANDS", "main"]
from monitor.commands.query_options import BadOption
from monitor.configuration.settings import find_config, load_settings
from monitor.errors import ConfigError, MonitorError
from monitor.service.logs import register_secret, setup_logging
from storage import NotFound, StorageError
from storage.queries import BadQuery

# the commands that send alerts, and so read the channels' secrets
SENDING = frozenset({"check-config", "once", "run", "alerts test"})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose if args.command != "run" else max(args.verbose, 1))
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # the reader went away (`monitor export | head -1`): the documented way is to point
        # stdout at devnull so that the interpreter's final flush does not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except ConfigError as exc:
        print(f"configuration invalid ({len(exc.problems)} problem"
              f"{'s' if len(exc.problems) != 1 else ''}):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except BadQuery as exc:
        print(f"search: {exc}", file=sys.stderr)
        return 2
    except BadOption as exc:
        print(f"monitor {args.command}: {exc}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"not found: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"database: {exc}", file=sys.stderr)
        return 3
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in NO_SETTINGS:
        return NO_SETTINGS[args.command](args)
    # only the commands that send resolve the channels' secrets; queries need none
    settings = load_settings(find_config(args.config), secrets=" ".join(
        filter(None, (args.command, getattr(args, "alerts_command", None)))) in SENDING)
    for secret in settings.alerts.secret_values():
        register_secret(secret.reveal())  # never in a log line, whatever prints it
    return HANDLERS[args.command](settings, args)


if __name__ == "__main__":  # pragma: no cover
    logging.captureWarnings(True)
    sys.exit(main())
