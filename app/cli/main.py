"""Entry point of the command line. With no command, the launcher opens the GUI instead.

Exit codes: 0 done; 1 refused (the message or JSON says why); 2 usage error;
3 the database cannot be used (unreachable, wrong schema, bad configuration).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from app import __version__
from app.cli import (
    checkin_commands,
    checkout_commands,
    closure_commands,
    daily_commands,
    hold_commands,
    ifm_commands,
    lending_commands,
    ncip_commands,
    notice_commands,
    office_commands,
    office_list_commands,
    offline_commands,
    partner_commands,
    print_commands,
    privacy_commands,
    report_commands,
    request_commands,
    setup_commands,
)
from app.cli.context import CliContext
from app.library.database_errors import (
    CommitOutcomeUnknown,
    DatabaseBusy,
    DatabaseConfigError,
    SchemaMismatch,
)
from app.library.errors import DatabaseUnavailable, ServiceError
from app.workstation.config import log_dir
from app.workstation.log_setup import LOG_FILE, configure_logging

EXIT_REFUSED, EXIT_USAGE, EXIT_DATABASE = 1, 2, 3
log = logging.getLogger(__name__)

COMMAND_MODULES = (
    setup_commands,
    checkin_commands,
    privacy_commands,
    daily_commands,
    closure_commands,
    checkout_commands,
    lending_commands,
    ifm_commands,
    office_commands,
    notice_commands,
    offline_commands,
    partner_commands,
    ncip_commands,
    print_commands,
    report_commands,
    hold_commands,
    office_list_commands,
    request_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="illdesk",
        description="ILL Desk: interlibrary loan circulation desk. Without a command, "
        "opens the desk window.",
    )
    parser.add_argument("--version", action="version", version=f"illdesk {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (else ILLDESK_DATABASE_URL, the settings file, "
        "or the embedded SQLite file)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False,
        help="print one JSON object per result, one per line",
    )
    parser.add_argument(
        "--demo-if-new",
        action="store_true",
        help="GUI: load the demo library when the embedded database is new",
    )
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="GUI: open, check in a demo item, render a strap, and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    for choice in sub.choices.values():
        _add_common_everywhere(choice)
    return parser


def _add_common_everywhere(parser: argparse.ArgumentParser) -> None:
    setup_commands.add_common(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_common_everywhere(child)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    ctx = CliContext(args, out, err)
    try:
        code: int = args.handler(ctx)
        return code
    except (SchemaMismatch, DatabaseConfigError, DatabaseUnavailable) as exc:
        print(f"illdesk: {exc}", file=ctx.err)
        return EXIT_DATABASE
    except DatabaseBusy as exc:  # a lock, a deadlock, a local file's problem
        print(f"illdesk: {database_problem(exc)}", file=ctx.err)
        return EXIT_DATABASE
    except ServiceError as exc:
        if ctx.json:
            ctx.emit({"error": exc.code, "message": exc.message})
        print(f"illdesk: {exc.message}", file=ctx.err)
        return EXIT_REFUSED
    except BrokenPipeError:
        raise  # the reader went away: `main` stops quietly
    except Exception:  # no service foresaw it: never a traceback at the terminal
        log.exception("illdesk %s failed", args.command)
        message = (
            "something went wrong and it was not done. Try again; if it happens again, tell "
            f"IT (the details are in {log_dir() / LOG_FILE})."
        )
        if ctx.json:
            ctx.emit({"error": "unexpected", "message": message})
        print(f"illdesk: {message}", file=ctx.err)
        return EXIT_REFUSED
    finally:
        ctx.close()


_SQLITE_PROBLEMS = (
    (
        "locked",
        "the database file is in use by another program ({reason}). Wait a moment and try "
        "again; if it stays locked, close the other program. Nothing was changed.",
    ),
    (
        "full",
        "the disk holding the database file is full ({reason}). Free some space on it, then "
        "try again. Nothing was changed.",
    ),
    (
        "readonly",
        "the database file is read-only ({reason}). Check the file's and its folder's "
        "permissions (this user must be able to write them), then try again. Nothing was "
        "changed.",
    ),
    (
        "unable to open",
        "the database file cannot be opened ({reason}). Check that its folder exists and "
        "this user may write in it.",
    ),
    (
        "disk i/o",
        "the disk holding the database file failed to read or write ({reason}). Check the "
        "disk; nothing was changed.",
    ),
)


def database_problem(exc: DatabaseBusy) -> str:
    """Say what is wrong with the database: a local file's problem is not the network's."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if isinstance(exc, CommitOutcomeUnknown):
        return (
            f"the connection broke just after the change was sent ({reason}). Not sure "
            "whether it was saved: check it when the database is back before doing it again."
        )
    if exc.orig is not None and type(exc.orig).__module__.startswith("sqlite3"):
        squashed = reason.lower().replace(" ", "").replace("-", "")
        for marker, sentence in _SQLITE_PROBLEMS:
            if marker.replace(" ", "") in squashed:
                return sentence.format(reason=reason)
        return f"the database file cannot be used ({reason}). Nothing was changed."
    return f"the database is busy ({reason}). Wait a moment, then try again. Nothing was changed."


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    configure_logging()
    if args.command is None:
        print("illdesk: no command given. `illdesk --help` lists them.", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run(args)
    except BrokenPipeError:
        return _output_closed()


def _output_closed() -> int:
    """The reader went away (`illdesk ... | head`): stop quietly and say so on stderr.

    Later results were not printed, and a batch stops where it was: each finished scan is
    committed on its own, so nothing is half-done.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not fail again
    os.close(devnull)
    print("illdesk: the output was closed before the end; stopped there.", file=sys.stderr)
    return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
