"""Waiting for the desk's runners in GUI tests: on their answers, never with a sleep."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.operations import Operations, live_runners

WAIT_MS = 10_000


def settle(qtbot: QtBot, *runners: Operations) -> None:
    """Wait until every job asked of `runners` (of every runner, when none is named) has run
    and its answer reached the screen; answers that ask for more work are waited for too."""

    def idle() -> bool:
        return not any(ops.busy for ops in (runners or live_runners()))

    qtbot.waitUntil(idle, timeout=WAIT_MS)
