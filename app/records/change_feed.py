"""How one desk notices what other desks changed, without a restart: polling.

Every change a desk makes to circulation writes an audit event in the same transaction
(check-in, checkout, receiving, transits, holds, lending steps...). The newest audit
event's id is therefore a cheap "last change" marker: ``SELECT max(id) FROM audit_events``
is one primary-key index lookup on both SQLite and PostgreSQL. A desk polls it every
`POLL_SECONDS` (3 s) on a worker thread; when it moved, lists such as the hold shelf, in
transit and to-pull refresh.

Polling was chosen over PostgreSQL LISTEN/NOTIFY because it works the same on the
embedded SQLite database, survives dropped connections without re-subscribing, costs one
tiny query per desk every few seconds, and works through a transaction pooler (PgBouncer
cannot pass LISTEN on). On PostgreSQL the poll is one statement in autocommit: one round
trip, no BEGIN or ROLLBACK, one backward step on the primary-key index, whatever the number
of desks or events. Behind a pooler the desk polls through the sign-in role's connection
(`ChangeFeed(db=...)` in the desk session), so 500 desks share one server pool for it
instead of each staff member's own. No Qt here: the screens' timers call `poll`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import Lock

from sqlalchemy import func, select

from db.engine import Database, behind_transaction_pooler
from db.models import AuditEvent

POLL_SECONDS = 3.0


_NEWEST = select(func.max(AuditEvent.id))


def last_change(db: Database) -> int:
    """The marker of the newest change anywhere (0 for an empty database)."""
    if db.is_sqlite:
        with db.reading() as session:
            return int(session.scalar(_NEWEST) or 0)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return int(conn.scalar(_NEWEST) or 0)


def feed_database(signin: Database, own: Database) -> Database:
    """Where a signed-in desk polls: behind a transaction pooler, through the sign-in role
    (`signin`, which may read only the newest event's number), so every desk's poll shares
    one server pool; straight to the server, on the staff member's own connection (`own`),
    so a desk keeps to its two connections."""
    if signin is not own and behind_transaction_pooler(own.engine):
        return signin
    return own


@dataclass
class ChangeFeed:
    """Tells whether anything changed since the previous `poll`; thread-safe."""

    db: Database
    _seen: int | None = None
    _lock: Lock = field(default_factory=Lock)

    def poll(self) -> bool:
        """True when another change was committed since the last poll (never on the first).

        Database errors propagate: the caller treats them as "the database is away".
        """
        marker = last_change(self.db)
        with self._lock:
            changed = self._seen is not None and marker != self._seen
            self._seen = marker
        return changed
