"""Long work in the window: rows done of the total, the rate, the time left, and Stop.

The job runs on an `Operations` runner like any other desk work and reports to an
`app.library.progress.JobWatch`: plain numbers under a lock. This widget reads the watch
from a timer on the GUI thread, so the job's thread never touches a window object (see
ui/garbage_collection.py) and a fast job cannot flood the window with updates. Stop asks the
job to end after the batch in hand: what it committed stays committed, and the window says
how the rest gets done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStatusBar,
    QWidget,
)

from app.library.errors import ServiceError
from app.library.progress import JobWatch, Moving
from ui.operations import Job, Operations

T = TypeVar("T")
LOOK_EVERY_MS = 250
STOPPING = "Stopping after the batch in hand…"
STARTING = "Starting…"


def time_left(seconds: float) -> str:
    """'about 40 s left', 'about 3 min 05 s left', 'about 1 h 20 min left'."""
    whole = max(round(seconds), 0)
    if whole < 60:
        return f"about {whole} s left"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"about {minutes} min {secs:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min left"


def figures(seen: Moving, unit: str, starting: str = STARTING) -> str:
    """'12,000 of 50,000 rows · 2,400 rows/s · about 16 s left' (what is known so far)."""
    if not seen.total and not seen.done:
        return starting
    parts = [f"{seen.done:,} of {seen.total:,} {unit}"]
    if seen.rate:
        parts.append(f"{seen.rate:,.0f} {unit}/s")
        if seen.seconds_left is not None and seen.done < seen.total:
            parts.append(time_left(seen.seconds_left))
    return " · ".join(parts)


class JobProgress(QWidget):
    """A bar with its figures and a Stop button for one long job at a time.

    `run()` starts the job on the runner given and follows it; `show_after_ms` keeps the
    widget hidden for work that is over quickly (the daily jobs on an ordinary day), and
    `hide_after_ms` hides the last words again after a while (0: they stay).
    """

    def __init__(
        self,
        name: str,
        parent: QWidget | None = None,
        *,
        unit: str = "rows",
        show_after_ms: int = 0,
        hide_after_ms: int = 0,
        starting: str = STARTING,
        compact: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.unit, self.starting = unit, starting
        self.show_after_ms, self.hide_after_ms = show_after_ms, hide_after_ms
        self.title = QLabel(self)
        self.title.setObjectName(f"{name}Title")
        self.bar = QProgressBar(self)
        self.bar.setObjectName(f"{name}Bar")
        self.bar.setMinimumWidth(160)
        self.bar.setFormat("%p%")
        self.figures = QLabel(self)
        self.figures.setObjectName(f"{name}Figures")
        self.figures.setMinimumWidth(60)  # cut short (the tooltip has it all), never widening
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName(f"{name}StopButton")
        self.stop_button.setToolTip(
            "Stop after the batch in hand: what is done stays done, and the rest can be done later."
        )
        self.stop_button.clicked.connect(self.stop)
        self.again_button = QPushButton(self)  # after a stop, where carrying on is a click
        self.again_button.setObjectName(f"{name}AgainButton")
        self.again_button.hide()
        self._again: Callable[[], object] | None = None
        self.again_button.clicked.connect(self._carry_on)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.figures)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.again_button)
        self.compact = compact
        if compact:  # in the status bar: the title in the bar, the figures take what room is left
            self.title.hide()
            self.bar.setMinimumWidth(230)
            self.bar.setMaximumWidth(300)
            self.figures.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.timer = QTimer(self)
        self.timer.setObjectName(f"{name}Timer")
        self.timer.setInterval(LOOK_EVERY_MS)
        self.timer.timeout.connect(self.look)
        self.hide_timer = QTimer(self)
        self.hide_timer.setObjectName(f"{name}HideTimer")
        self.hide_timer.setSingleShot(True)
        self.hide_timer.timeout.connect(self.hide)
        self.watch: JobWatch | None = None
        self.last: Moving | None = None  # what the watch said last (kept after the end)
        self._show_at = 0.0
        self.hide()

    @property
    def running(self) -> bool:
        return self.watch is not None

    def run(
        self,
        ops: Operations,
        what: str,
        work: Callable[[JobWatch], T],
        on_done: Callable[[T], object],
        on_error: Callable[[ServiceError], object],
    ) -> Job[T] | None:
        """Run `work(watch)` on `ops` and follow it; the answer goes to `on_done` or
        `on_error` (GUI thread) after the widget has said it ended."""
        watch = JobWatch()

        def done(value: T) -> None:
            self.ended()
            on_done(value)

        def failed(error: ServiceError) -> None:
            self.ended()
            on_error(error)

        job = ops.run(lambda: work(watch), on_done=done, on_error=failed, name=what, owner=self)
        if job is not None:
            self.follow(what, watch)
        return job

    def follow(self, what: str, watch: JobWatch) -> None:
        """Show `watch`'s job as it moves (its runner is the caller's business)."""
        self.watch, self.last = watch, None
        self.title.setText(what)
        if self.compact:
            self.bar.setFormat(f"{what} %p%")
        self.setToolTip(what)
        self.bar.setRange(0, 0)  # busy until the job knows its total
        self._figures(self.starting)
        self.stop_button.setEnabled(True)
        self.stop_button.show()
        self.again_button.hide()
        self.hide_timer.stop()
        self._show_at = time.monotonic() + self.show_after_ms / 1000
        if not self.show_after_ms:
            self.show()
        self.timer.start()

    def look(self) -> None:
        """Read the watch and show what it says (the timer calls this on the GUI thread)."""
        if self.watch is None:
            return
        seen = self.last = self.watch.seen()
        if seen.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(seen.fraction * 1000))
        self._figures(STOPPING if seen.stopping else figures(seen, self.unit, self.starting))
        if self.isHidden() and time.monotonic() >= self._show_at:
            self.show()

    def stop(self) -> None:
        """Ask the job to end after the batch in hand."""
        if self.watch is None:
            return
        self.watch.stop()
        self.stop_button.setEnabled(False)
        self._figures(STOPPING)

    def ended(self) -> None:
        """The job is over: the bar shows where it got to; the caller says the rest."""
        self.look()
        self.timer.stop()
        self.watch = None
        self.stop_button.hide()
        if self.hide_after_ms and self.isVisible():  # hidden still: over before it was worth
            self.hide_timer.start(self.hide_after_ms)  # showing, and it stays hidden

    def finish(self, text: str) -> None:
        """Followed from outside (`follow`): the job is over, and `text` says how it ended."""
        self.ended()
        self.say(text)

    def say(self, text: str) -> None:
        """The last words beside the bar: how far it got, or how the rest gets done."""
        self._figures(text)

    def _figures(self, text: str) -> None:
        self.figures.setText(text)
        self.figures.setToolTip(text)  # the whole of it, where the status bar cuts it short

    def say_end(self, word: str) -> None:
        """'50,000 of 50,000 rows · done': where it got to, and how it ended."""
        last = self.last
        if last is not None and last.total:
            self.say(f"{last.done:,} of {last.total:,} {self.unit} · {word}")
        else:
            self.say(word.capitalize() + ".")

    def rest(self) -> None:
        """Its owner is going away: no more looking, nothing left to hide later."""
        self.timer.stop()
        self.hide_timer.stop()

    def offer_again(self, label: str, again: Callable[[], object]) -> None:
        """After a stop: a button that carries on (the words stay until it is clicked)."""
        self._again = again
        self.again_button.setText(label)
        self.again_button.show()
        self.hide_timer.stop()

    def _carry_on(self) -> None:
        again, self._again = self._again, None
        self.again_button.hide()
        if again is not None:
            again()


def show_long_work(name: str, where: QWidget, **options: Any) -> JobProgress:
    """A `JobProgress` at the bottom of `where`: the main window's long-work strip (full
    width), or a status bar (compact, beside its permanent labels)."""
    if isinstance(where, QStatusBar):
        progress = JobProgress(name, where, compact=True, **options)
        where.addPermanentWidget(progress)
        return progress
    progress = JobProgress(name, where, **options)
    layout = where.layout()
    if layout is not None:
        layout.addWidget(progress)
    return progress
