"""The `illdesk` executable: a command runs the CLI, no command opens the desk window."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app.cli import main as cli
from app.log_setup import configure_logging


def main(argv: Sequence[str] | None = None) -> int:
    args = cli.parse(sys.argv[1:] if argv is None else argv)
    configure_logging()
    if args.command is not None:
        return cli.run(args)
    from ui.desk_app import run_gui  # Qt is loaded only for the window

    code: int = run_gui(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
