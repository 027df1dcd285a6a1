"""Everything a screen needs after sign-in: the runtime, who is signed in, this desk's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.offline.journal import OfflineJournal
from app.offline.provisional import ProvisionalDesk
from app.records.change_feed import ChangeFeed
from app.workstation.config import WorkstationSettings
from ui.operations import Operations


@dataclass
class DeskSession:
    """Passed to every screen's constructor; screens run services with `ops`, `rt` and `actor`.

    `offline` is this desk's answer while the database cannot be reached (its journal and
    snapshot), built once per session and handed to `check_in` and the check-out screen.
    """

    rt: Runtime
    actor: Actor
    settings: WorkstationSettings
    ops: Operations = field(default_factory=Operations)
    """The one worker thread every screen runs its database work on (closed with the window)."""
    offline: ProvisionalDesk = field(init=False, repr=False)
    feed: ChangeFeed | None = None
    """The change feed, when it polls elsewhere than `rt.db` (`change_feed.feed_database`)."""

    def __post_init__(self) -> None:
        self.offline = ProvisionalDesk(OfflineJournal(), self.rt.clock)

    @property
    def branch_code(self) -> str:
        return self.actor.branch_code
