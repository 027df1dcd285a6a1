"""Everything a screen needs after sign-in: the runtime, who is signed in, this desk's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from ui.operations import Operations


@dataclass
class DeskSession:
    """Passed to every screen's constructor; screens run services with `ops`, `rt` and `actor`."""

    rt: Runtime
    actor: Actor
    settings: WorkstationSettings
    ops: Operations = field(default_factory=Operations)
    """The one worker thread every screen runs its database work on (closed with the window)."""

    @property
    def branch_code(self) -> str:
        return self.actor.branch_code
