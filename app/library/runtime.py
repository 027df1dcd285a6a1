"""What every service call needs, passed explicitly: the database, the clock, the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.library.clock import Clock, SystemClock
from db.engine import Database


@dataclass
class Runtime:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
