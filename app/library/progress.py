"""How long work reports that it moves, and how it is asked to stop between batches.

A batch job calls `progress(done, total)` after each batch it commits; the command line draws
a bar from it (rows done, rate, time left) and the window its own. `total` is the number of
rows the job expects; it may grow if more work arrives while it runs. A job that can be
stopped also asks `keep_going()` after each committed batch and ends there when it says no:
what was committed stays committed, and the next run carries on from what is left.

`JobWatch` is both ends for a watcher on another thread (the window): the job writes to it,
the watcher reads `seen()` whenever it likes and calls `stop()`. It holds plain numbers under
a lock, so no window object is ever touched by the job's thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[[int, int], None]
KeepGoing = Callable[[], bool]

RATE_WINDOW_SECONDS = 10.0  # the rate is measured over the last few seconds, not the whole run


def no_progress(done: int, total: int) -> None:
    """The default: nobody is watching."""


def always() -> bool:
    """The default `keep_going`: nobody can stop the job."""
    return True


@dataclass(frozen=True)
class Moving:
    """What a watcher sees: rows done of the total, rows a second, seconds left (None: not
    known yet), and whether a stop was asked for."""

    done: int
    total: int
    rate: float | None
    seconds_left: float | None
    stopping: bool

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0


class JobWatch:
    """A job's progress and its stop request, shared between the job's thread and a watcher."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = 0
        self._total = 0
        self._samples: deque[tuple[float, int]] = deque()

    # -- the job's end ----------------------------------------------------------------------

    def progress(self, done: int, total: int) -> None:
        """The job's `Progress` callback (called on the job's thread)."""
        now = self._clock()
        with self._lock:
            self._done, self._total = done, max(total, done)
            self._samples.append((now, done))
            while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW_SECONDS:
                self._samples.popleft()

    def keep_going(self) -> bool:
        """The job's `keep_going`: False once a stop was asked for."""
        return not self._stop.is_set()

    # -- the watcher's end ------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the job to end after the batch in hand (it is never cut mid-transaction)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def seen(self) -> Moving:
        with self._lock:
            done, total = self._done, self._total
            first = self._samples[0] if self._samples else None
            last = self._samples[-1] if self._samples else None
        rate: float | None = None
        if first is not None and last is not None and last[0] > first[0] and last[1] > first[1]:
            rate = (last[1] - first[1]) / (last[0] - first[0])
        left = (total - done) / rate if rate and total >= done else None
        return Moving(done, total, rate, left, self.stopping)


__all__ = ["JobWatch", "KeepGoing", "Moving", "Progress", "always", "no_progress"]
