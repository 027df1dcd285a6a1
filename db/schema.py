"""Schema versions: upgrade, report, and refuse to run against a schema of another age."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


class SchemaMismatch(Exception):
    """The database schema is not the one this version of ILL Desk was built for."""


def migrations_dir() -> Path:
    return Path(str(resources.files("db") / "migrations"))


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def is_known_revision(revision: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    return any(rev.revision == revision for rev in script.walk_revisions())


def ensure_current(engine: Engine) -> None:
    """Raise SchemaMismatch with what to do when the schema is older or newer than the code."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
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
        f"expects ({head}). An administrator runs `illdesk db upgrade` against it first."
    )
