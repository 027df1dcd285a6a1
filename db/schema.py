"""Schema versions: upgrade, report, and refuse to run against a schema of another age.

Alembic is imported only when a migration runs or the revision graph is read: a desk
starting against a current database checks one row and goes on.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision this code ships; tests/test_schema.py checks it against the scripts.
HEAD = "0001"


class SchemaMismatch(Exception):
    """The database schema is not the one this version of ILL Desk was built for."""


def migrations_dir() -> Path:
    return Path(str(resources.files("db") / "migrations"))


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    return HEAD


def scripts_head() -> str | None:
    """The head as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def is_known_revision(revision: str) -> bool:
    if revision == HEAD:
        return True
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return any(rev.revision == revision for rev in script.walk_revisions())


def ensure_current(engine: Engine) -> None:
    """Raise SchemaMismatch with what to do when the schema is older or newer than the code."""
    current = current_revision(engine)
    if current == HEAD:
        return
    if current is None:
        raise SchemaMismatch(
            "This database has no ILL Desk tables yet. An administrator runs "
            "`illdesk db upgrade` once to create them."
        )
    if not is_known_revision(current):
        raise SchemaMismatch(
            f"This database was upgraded by a newer ILL Desk (schema {current}). "
            "Install the newer version on this desk, or ask IT to roll the database back."
        )
    raise SchemaMismatch(
        f"This database's schema ({current}) is older than this version of ILL Desk "
        f"expects ({HEAD}). An administrator runs `illdesk db upgrade` against it first."
    )
