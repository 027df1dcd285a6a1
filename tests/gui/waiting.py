"""Waiting for the desk's runner in GUI tests: on its answers, never with a sleep."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.operations import Operations

WAIT_MS = 10_000


def settle(qtbot: QtBot, *runners: Operations) -> None:
    """Wait until every job asked of `runners` has run and its answer reached the screen."""
    qtbot.waitUntil(lambda: not any(ops.busy for ops in runners), timeout=WAIT_MS)
