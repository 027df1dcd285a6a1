"""Alembic environment: the engine comes from the caller (db.schema), never from a file."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.operations import ops
from sqlalchemy import ForeignKeyConstraint, create_engine

import db.models
from db.engine import create_database_engine
from db.migrations.sequences import CreateSequenceOp, DropSequenceOp
from db.models.circulation import add_postgresql_conditions

target_metadata = db.models.Base.metadata
add_postgresql_conditions(target_metadata)  # the models declare only the SQLite form


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones so migrations never import app code."""
    if type_ == "type" and isinstance(obj, db.models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


config = context.config


def arrange_operations(context_: Any, revision: Any, directives: list[Any]) -> None:
    """Create `use_alter` foreign keys after every table exists, and the sequences.

    Alembic leaves such keys out of CREATE TABLE on PostgreSQL and never adds them back;
    a batch operation afterwards works on both PostgreSQL and SQLite. Autogenerate does not
    see sequences at all: the initial schema creates the models' own. Downgrades drop both
    first, so the tables can go in any order.
    """
    script = directives[0]
    upgrade_ops = script.upgrade_ops
    later: list[ops.MigrateOperation] = []
    first: list[ops.MigrateOperation] = []
    for op_ in upgrade_ops.ops:
        if not isinstance(op_, ops.CreateTableOp):
            continue
        cyclic = [c for c in op_.columns if isinstance(c, ForeignKeyConstraint) and c.use_alter]
        if cyclic:
            op_.columns = [c for c in op_.columns if not any(c is f for f in cyclic)]
            fks = [ops.CreateForeignKeyOp.from_constraint(fk) for fk in cyclic]
            later.append(ops.ModifyTableOps(op_.table_name, list(fks)))
            drops = [ops.DropConstraintOp.from_constraint(fk) for fk in cyclic]
            first.append(ops.ModifyTableOps(op_.table_name, list(drops)))
    upgrade_ops.ops.extend(later)
    script.downgrade_ops.ops[:0] = first
    if not any(revision):  # the initial schema, written from an empty database
        names = [sequence.name for sequence in db.models.SEQUENCES]
        upgrade_ops.ops.extend(CreateSequenceOp(name) for name in names)
        script.downgrade_ops.ops[:0] = [DropSequenceOp(name) for name in names]


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        engine = create_database_engine(url) if url else create_engine("sqlite://")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            render_item=render_item,
            process_revision_directives=arrange_operations,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
