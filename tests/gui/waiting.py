"""Waiting for the desk's runners in GUI tests: on their answers, never with a sleep."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.operations import live_runners

WAIT_MS = 10_000


def settle(qtbot: QtBot) -> None:
    """Wait until every job asked of any runner has run and its answer reached the screen.

    Answers that ask for more work (a save that reloads the list) are waited for too.
    """
    qtbot.waitUntil(lambda: not any(ops.busy for ops in live_runners()), timeout=WAIT_MS)
