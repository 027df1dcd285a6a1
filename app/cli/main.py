"""Entry point of the command line. With no command, the launcher opens the GUI instead.

Exit codes: 0 done; 1 refused (the message or JSON says why); 2 usage error;
3 the database cannot be used (unreachable, wrong schema, bad configuration).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.exc import OperationalError

from app import __version__
from app.cli import (
    checkin_commands,
    checkout_commands,
    lending_commands,
    ncip_commands,
    notice_commands,
    office_commands,
    offline_commands,
    privacy_commands,
    setup_commands,
)
from app.cli.context import CliContext
from app.library.errors import DatabaseUnavailable, ServiceError
from app.workstation.log_setup import configure_logging
from db.engine import DatabaseConfigError
from db.schema import SchemaMismatch

EXIT_REFUSED, EXIT_USAGE, EXIT_DATABASE = 1, 2, 3

COMMAND_MODULES = (
    setup_commands,
    checkin_commands,
    privacy_commands,
    checkout_commands,
    lending_commands,
    office_commands,
    notice_commands,
    offline_commands,
    ncip_commands,
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
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(
            f"illdesk: the database cannot be reached ({reason}). Check the server "
            "and the network, then try again. Nothing was changed.",
            file=ctx.err,
        )
        return EXIT_DATABASE
    except ServiceError as exc:
        if ctx.json:
            ctx.emit({"error": exc.code, "message": exc.message})
        print(f"illdesk: {exc.message}", file=ctx.err)
        return EXIT_REFUSED
    finally:
        ctx.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    configure_logging()
    if args.command is None:
        print("illdesk: no command given. `illdesk --help` lists them.", file=sys.stderr)
        return EXIT_USAGE
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
