"""Sequences, which only PostgreSQL has, as migration operations that autogenerate writes.

Alembic's autogenerate does not see sequences; the environment adds these operations for
the ones the models name (`db.models.SEQUENCES`), so regenerating the migration keeps them.
On SQLite they do nothing: its writers take turns anyway.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import MigrateOperation, Operations


@Operations.register_operation("create_postgresql_sequence")
class CreateSequenceOp(MigrateOperation):
    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create_postgresql_sequence(cls, operations: Operations, name: str) -> Any:
        return operations.invoke(cls(name))

    def reverse(self) -> DropSequenceOp:
        return DropSequenceOp(self.name)


@Operations.register_operation("drop_postgresql_sequence")
class DropSequenceOp(MigrateOperation):
    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def drop_postgresql_sequence(cls, operations: Operations, name: str) -> Any:
        return operations.invoke(cls(name))

    def reverse(self) -> CreateSequenceOp:
        return CreateSequenceOp(self.name)


def _on_postgresql(operations: Operations) -> bool:
    return bool(operations.get_bind().dialect.name == "postgresql")


@Operations.implementation_for(CreateSequenceOp)
def _create(operations: Operations, operation: CreateSequenceOp) -> None:
    if _on_postgresql(operations):
        operations.execute(f'CREATE SEQUENCE "{operation.name}"')


@Operations.implementation_for(DropSequenceOp)
def _drop(operations: Operations, operation: DropSequenceOp) -> None:
    if _on_postgresql(operations):
        operations.execute(f'DROP SEQUENCE "{operation.name}"')


@renderers.dispatch_for(CreateSequenceOp)
def _render_create(autogen_context: Any, operation: CreateSequenceOp) -> str:
    return f"op.create_postgresql_sequence({operation.name!r})  # type: ignore[attr-defined]"


@renderers.dispatch_for(DropSequenceOp)
def _render_drop(autogen_context: Any, operation: DropSequenceOp) -> str:
    return f"op.drop_postgresql_sequence({operation.name!r})  # type: ignore[attr-defined]"
