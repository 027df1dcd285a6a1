"""Everything a screen needs after sign-in: the runtime, who is signed in, this desk's settings."""

from __future__ import annotations

from dataclasses import dataclass

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings


@dataclass
class DeskSession:
    """Passed to every screen's constructor; screens call services with `rt` and `actor`."""

    rt: Runtime
    actor: Actor
    settings: WorkstationSettings

    @property
    def branch_code(self) -> str:
        return self.actor.branch_code
