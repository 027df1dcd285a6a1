"""A change whose COMMIT reply was lost: did it happen?

When the connection breaks after COMMIT was sent, the server may or may not have saved the
change. Every desk scan records its idempotency key in the same transaction, so the key's
presence answers the question once the database answers. Until then the honest answer is
"not sure", never "nothing was changed".
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from app.library.errors import OutcomeUnknown
from db.engine import Database
from db.models import AppliedScan


def was_saved(database: Database, key: str, action: str) -> bool:
    """Whether the change recorded under `key` is in the database (asked on a new connection).

    Raises `OutcomeUnknown` when the database cannot be asked: then nobody knows yet.
    """
    try:
        with database.reading() as session:
            return session.get(AppliedScan, key) is not None
    except DBAPIError as exc:
        raise OutcomeUnknown(action, key) from exc
