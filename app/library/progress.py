"""How long work reports that it moves: a plain callback the command line and the window share.

A batch job calls `progress(done, total)` after each batch it commits; the command line draws
a bar from it (rows done, rate, time left) and the window can drive its own bar. `total` is
the number of rows the job expects; it may grow if more work arrives while it runs.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """The default: nobody is watching."""


__all__ = ["Progress", "no_progress"]
