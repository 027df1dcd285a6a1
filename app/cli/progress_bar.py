"""A progress bar on the terminal for long work: rows done, rate and time left.

Drawn with rich on standard error, only when standard error is a terminal and --json was
not given, so scripts, logs and pipes see exactly the output they always saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from app.library.progress import Progress, no_progress


@contextmanager
def terminal_progress(what: str, stream: TextIO, *, quiet: bool = False) -> Iterator[Progress]:
    """A `progress(done, total)` callback drawing a bar for `what`, or one doing nothing."""
    if quiet or not stream.isatty():
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=False,
    )
    task = bar.add_task(what, total=None, rate="")

    def report(done: int, total: int) -> None:
        speed = bar.tasks[0].speed
        bar.update(
            task,
            completed=done,
            total=max(total, done),
            rate=f"{speed:,.0f} rows/s" if speed else "",
        )

    with bar:
        yield report


__all__ = ["terminal_progress"]
