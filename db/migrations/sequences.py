"""Sequences, which only PostgreSQL has, as migration operations that autogenerate writes.

Alembic's autogenerate does not see sequences; the environment adds these operations for
the ones the models name (`db.models.SEQUENCES`), so regenerating the migration keeps them.
On SQLite they do nothing: its writers take turns anyway.
"""

from __future__ import annotations

from typing import Any, ClassVar

from alembic.autogenerate import renderers
from alembic.operations import MigrateOperation, Operations


class _SequenceOp(MigrateOperation):
    """One sequence, by name; `method` is what a migration calls, `sql` what it runs."""

    method: ClassVar[str]
    sql: ClassVar[str]

    def __init__(self, name: str) -> None:
        self.name = name


@Operations.register_operation("create_postgresql_sequence")
class CreateSequenceOp(_SequenceOp):
    method, sql = "create_postgresql_sequence", "CREATE SEQUENCE"

    @classmethod
    def create_postgresql_sequence(cls, operations: Operations, name: str) -> Any:
        return operations.invoke(cls(name))

    def reverse(self) -> DropSequenceOp:
        return DropSequenceOp(self.name)


@Operations.register_operation("drop_postgresql_sequence")
class DropSequenceOp(_SequenceOp):
    method, sql = "drop_postgresql_sequence", "DROP SEQUENCE"

    @classmethod
    def drop_postgresql_sequence(cls, operations: Operations, name: str) -> Any:
        return operations.invoke(cls(name))

    def reverse(self) -> CreateSequenceOp:
        return CreateSequenceOp(self.name)


def _run(operations: Operations, operation: _SequenceOp) -> None:
    if operations.get_bind().dialect.name == "postgresql":
        operations.execute(f'{operation.sql} "{operation.name}"')


def _render(autogen_context: Any, operation: _SequenceOp) -> str:
    return f"op.{operation.method}({operation.name!r})  # type: ignore[attr-defined]"


for _op in (CreateSequenceOp, DropSequenceOp):
    Operations.implementation_for(_op)(_run)
    renderers.dispatch_for(_op)(_render)
