"""Refusals a service raises. Each carries a stable code and a message that says what to do."""

from __future__ import annotations

from db.errors import DatabaseUnavailable, is_lock_busy

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
    "InvalidInput",
    "NotFound",
    "NotReached",
    "PermissionDenied",
    "ServiceError",
    "is_lock_busy",
]


class ServiceError(Exception):
    """A request the desk cannot carry out as it stands. Nothing was written."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(ServiceError):
    code = "invalid_input"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    """The record changed meanwhile (another desk, or a repeated action)."""

    code = "conflict"


class PermissionDenied(ServiceError):
    code = "permission_denied"


class NotReached(ServiceError):
    """What a screen is told when the database did not answer (the engine raises
    `DatabaseUnavailable`, which is not a refusal of the service but of the connection)."""

    code = "database_unavailable"


class OutcomeUnknown(DatabaseUnavailable):
    """The connection broke after the change was sent and the database cannot be asked yet.

    Never "nothing was changed": `key` is the scan's idempotency key, so journaling the scan
    with it lets the replay check what really happened once the database answers.
    """

    code = "not_sure"

    def __init__(self, action: str, key: str) -> None:
        super().__init__(
            f"Not sure whether the {action} was saved: the connection broke just after it was "
            "sent. It will be checked when the database is back."
        )
        self.action = action
        self.key = key
