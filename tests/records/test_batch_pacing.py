"""Batch jobs on SQLite size their batches by how long each held the write lock.

A desk waiting to record a scan must get the lock within half a second; a job that always
took 500 loans anonymised 2,700 loans a second on a library-sized file, most of it spent
resting between batches. Sized by the time held, it goes at the disk's pace instead.
"""

from __future__ import annotations

import time

import pytest

from db.bulk import SQLITE_HOLD_TARGET, Pacing


def _held_for(pacing: Pacing, seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]

    def sleep(pause: float) -> None:
        now[0] += pause

    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(time, "sleep", sleep)
    pacing.wait_turn()
    now[0] += seconds
    pacing.released()


def test_a_quick_batch_lets_the_next_one_grow_at_most_twofold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pacing = Pacing(sqlite=True)
    _held_for(pacing, SQLITE_HOLD_TARGET / 10, monkeypatch)
    assert pacing.next_size(500, least=500, most=5_000) == 1_000


def test_a_slow_batch_shrinks_the_next_one_to_fit_the_hold_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pacing = Pacing(sqlite=True)
    _held_for(pacing, SQLITE_HOLD_TARGET * 2, monkeypatch)
    assert pacing.next_size(4_000, least=500, most=5_000) == 2_000
    _held_for(pacing, SQLITE_HOLD_TARGET * 20, monkeypatch)
    assert pacing.next_size(2_000, least=500, most=5_000) == 500  # never below the least


def test_postgresql_keeps_its_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    pacing = Pacing(sqlite=False)
    _held_for(pacing, 5.0, monkeypatch)
    assert pacing.next_size(5_000, least=500, most=5_000) == 5_000
