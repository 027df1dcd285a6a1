"""GUI fixtures: a signed-in desk session on the demo library, for screen and shell tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from ui.desk_session import DeskSession


@pytest.fixture
def desk_session(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> Callable[[str, str], DeskSession]:
    """desk_session("desk", "METRO"): what a screen gets after that demo user signed in."""

    def make(username: str = "desk", branch: str = "METRO") -> DeskSession:
        return DeskSession(demo_rt, actor_at(username, branch), WorkstationSettings())

    return make
