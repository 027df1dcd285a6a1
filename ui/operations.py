"""One way to run desk work: off the GUI thread, one job at a time, answers back on the GUI thread.

A screen says what to run and what to do with the answer:

    self.ops.run(lambda: checkout.check_out(rt, actor, ...), on_done=self._show,
                 on_error=self.feedback.refused)

The job runs on this runner's single worker thread, so jobs run in the order they were asked
for and never overlap (a SQLAlchemy session never crosses threads: each job opens its own).
`on_done` gets the job's return value, `on_error` a `ServiceError` to show in words; both are
called on the GUI thread. This is the one place that turns "the database did not answer"
(`DatabaseUnavailable`, or SQLAlchemy's `OperationalError` from an unreachable server) into
the status bar's offline state, through `databaseUnavailable`. Anything else unexpected is
logged with its traceback and reaches the screen as a plain message.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.library.database_errors import DatabaseBusy
from app.library.errors import DatabaseUnavailable, NotReached, ServiceError, is_lock_busy

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY = (
    "Another desk is working on the same record. Nothing was changed: wait a moment, then "
    "try again."
)
NOT_REACHED = (
    "The database did not answer, so nothing was saved. Check the connection in the status "
    "bar, then try again."
)
UNEXPECTED = (
    "Something went wrong and it was not done. Try again; if it happens again, tell IT "
    "(the details are in the log)."
)
SHUTDOWN_WAIT_MS = 10_000

_live: weakref.WeakSet[Operations] = weakref.WeakSet()
# Runners with no parent (the desk session's): kept here until shut down, then deleted by
# the GUI thread's event loop. Left to Python's garbage collector, a runner could be freed
# on whichever thread happened to collect it, a worker thread included, and a Qt object
# deleted off its own thread while the window handles events crashes the program.
_unowned: set[Operations] = set()


class UnexpectedFailure(ServiceError):
    """A job failed for a reason no service foresaw; the log has the traceback."""

    code = "unexpected"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (driver messages run to many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Job(Generic[T]):
    """One piece of work with what to do with its answer; `name` says what it was, in logs."""

    def __init__(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], object] | None,
        on_error: Callable[[ServiceError], object] | None,
        name: str,
        owner: QObject | None = None,
    ) -> None:
        self.work: Callable[[], T] | None = work
        self.on_done, self.on_error, self.name = on_done, on_error, name
        self.owner = owner  # the widget the answer is for; gone means nobody to tell
        self.value: T | None = None
        self.error: ServiceError | None = None
        self.unreachable = ""  # the driver's reason when the database did not answer

    def release(self) -> None:
        """Let go of the work and the callbacks (on the GUI thread). They may hold the last
        reference to a screen; the worker thread lets go of the job itself later, and a Qt
        object freed there, off its own thread, crashes the program."""
        self.work = None
        self.on_done = self.on_error = None
        self.owner = None

    def execute(self) -> None:
        """Run the work (on the worker thread) and keep its answer as a value."""
        work = self.work
        if work is None:  # released: its runner shut down before it started
            return
        try:
            self.value = work()
        except DatabaseUnavailable as exc:
            self.error, self.unreachable = NotReached(exc.message), exc.message
        except DatabaseBusy as exc:
            if is_lock_busy(exc):
                log.info("%s: the database is busy: %s", self.name, first_line(exc))
                self.error = ServiceError(BUSY, code="database_busy")
            else:
                log.warning("%s: the database did not answer: %s", self.name, first_line(exc))
                self.error = NotReached(NOT_REACHED)
                self.unreachable = first_line(exc)
        except ServiceError as exc:
            self.error = exc
        except Exception:  # never a traceback at the desk; the log keeps the detail
            log.exception("%s failed", self.name)
            self.error = UnexpectedFailure(UNEXPECTED)


class _Task(QRunnable):
    def __init__(self, job: Job[Any], finished: Callable[[Job[Any]], None]) -> None:
        super().__init__()
        self._job, self._finished = job, finished

    def run(self) -> None:
        self._job.execute()
        self._finished(self._job)


class _Relay(QObject):
    """Lives on the GUI thread: a signal emitted from the worker is delivered here, queued."""

    finished = Signal(object)


class Operations(QObject):
    """A single worker thread for desk work, with answers delivered on the GUI thread."""

    databaseUnavailable = Signal(str)  # a job found the database away; the driver's reason
    answered = Signal(str)  # a job's answer was handed to the screen (its name), for tests
    unhandled = Signal(str)  # a refusal no screen asked to hear about, for the status bar

    def __init__(self, parent: QObject | None = None, *, name: str = "desk") -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Operations")
        self.name = name
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one job at a time, in the order asked
        self._pool.setExpiryTimeout(-1)  # keep the thread: no start-up cost per scan
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._lock = threading.Lock()
        self._waiting: list[Job[Any]] = []  # asked for, answer not yet delivered
        self._closed = False
        _live.add(self)
        if parent is None:
            _unowned.add(self)

    # -- asking ---------------------------------------------------------------------------

    def run(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], object] | None = None,
        on_error: Callable[[ServiceError], object] | None = None,
        *,
        name: str | None = None,
        owner: QObject | None = None,
    ) -> Job[T] | None:
        """Queue `work`; its answer goes to `on_done`, a refusal to `on_error` (GUI thread).

        `owner` is the widget the answer is for (by default the object `on_done` or
        `on_error` is a method of): when it has been deleted meanwhile, the answer is
        dropped. Returns None once the runner is shut down (the window is closing).
        """
        if self._closed:
            log.info("%s: not run, the desk is closing", name or _name_of(work))
            return None
        if owner is None:
            owner = _owner_of(on_done) or _owner_of(on_error)
        job: Job[T] = Job(work, on_done, on_error, name or _name_of(work), owner)
        with self._lock:
            self._waiting.append(job)
        self._pool.start(_Task(job, self._relay.finished.emit))
        return job

    @property
    def busy(self) -> bool:
        """A job is queued, running, or its answer is not yet delivered."""
        with self._lock:
            return bool(self._waiting)

    def pending(self) -> list[str]:
        """What is queued or running, by name (tests name what a test left behind)."""
        with self._lock:
            return [job.name for job in self._waiting]

    # -- answering (GUI thread) -----------------------------------------------------------

    def _deliver(self, job: Job[Any]) -> None:
        try:
            self._answer(job)
        finally:
            job.release()

    def _answer(self, job: Job[Any]) -> None:
        with self._lock:
            if job not in self._waiting:  # dropped by shutdown
                return
            self._waiting.remove(job)
        if self._closed:
            return
        if job.unreachable:
            self.databaseUnavailable.emit(job.unreachable)
        if job.owner is not None and not shiboken6.isValid(job.owner):
            log.debug("%s: its screen is gone; answer dropped", job.name)
            return
        if job.error is None:
            if job.on_done is not None:
                job.on_done(job.value)
        elif job.on_error is not None:
            job.on_error(job.error)
        else:
            log.info("%s refused: %s", job.name, job.error.message)
            self.unhandled.emit(job.error.message)
        self.answered.emit(job.name)

    def wait(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Block until every queued job has run; answers are still delivered as events."""
        if not shiboken6.isValid(self):
            return True
        return bool(self._pool.waitForDone(wait_ms))

    # -- closing --------------------------------------------------------------------------

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Drop queued jobs, let the running one finish (never cut mid-transaction).

        No answer is delivered after this: the screens are going away. Returns False when
        the running job was still busy after `wait_ms`.
        """
        self._closed = True
        if not shiboken6.isValid(self):
            return True  # already shut down and deleted
        self._pool.clear()
        finished = bool(self._pool.waitForDone(wait_ms))
        with self._lock:
            left, self._waiting = self._waiting, []
        dropped = [job.name for job in left]
        for job in left:
            job.release()
        if dropped:
            log.info("%s runner closed; not delivered: %s", self.name, ", ".join(dropped))
        if self in _unowned and finished:
            _unowned.discard(self)
            self.deleteLater()  # on the GUI thread, when its event loop next runs
        return finished

    @property
    def closed(self) -> bool:
        return self._closed


def live_runners() -> list[Operations]:
    """Runners not yet garbage-collected (tests check that none is left busy)."""
    return list(_live)


def _owner_of(callback: Callable[..., object] | None) -> QObject | None:
    owner = getattr(callback, "__self__", None)
    return owner if isinstance(owner, QObject) else None


def _name_of(work: Callable[..., object]) -> str:
    name = getattr(work, "__qualname__", None) or type(work).__name__
    module = getattr(work, "__module__", "") or ""
    return f"{module}.{name}" if module else name
