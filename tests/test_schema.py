"""Migrations build the whole schema on both databases, and the models agree with them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from app.library.errors import DatabaseUnavailable
from app.workstation.connection import open_database
from db import roles, schema
from db.engine import Database, DatabaseConfigError, create_database_engine, is_network_path
from db.models import SEQUENCES, Base
from db.models.circulation import add_postgresql_conditions
from db.schema import SchemaMismatch


def test_migrations_from_empty_to_head_match_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        assert schema.current_revision(engine) == schema.head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        if engine.dialect.name == "postgresql":  # which Alembic does not compare
            assert set(inspect(engine).get_sequence_names()) >= {s.name for s in SEQUENCES}
    finally:
        engine.dispose()


def test_embedded_database_is_created_and_upgraded_at_start(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'new' / 'desk.db'}")
    try:
        assert schema.current_revision(database.engine) == schema.head_revision()
    finally:
        database.dispose()


def test_shared_database_is_never_upgraded_silently(pg_database_url: str) -> None:
    engine = create_database_engine(pg_database_url)
    try:
        schema.downgrade(engine, "base")
        with pytest.raises(SchemaMismatch, match="illdesk db upgrade"):
            open_database(pg_database_url)
        assert schema.current_revision(engine) is None
    finally:
        schema.upgrade(engine)
        with engine.begin() as conn:  # the tables are new: their grants and triggers too
            roles.install(conn)
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    open_database(url).dispose()
    database = Database(url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    database.dispose()
    with pytest.raises(SchemaMismatch, match="newer ILL Desk"):
        open_database(url)


def test_sqlite_connections_have_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # FULL (2): every commit is flushed to disk, so a power cut loses no confirmed scan.
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    database.dispose()


def test_sqlite_on_a_network_share_is_refused_with_the_reason() -> None:
    assert is_network_path(Path("//fileserver/library/illdesk.db"))
    assert is_network_path(Path("\\\\fileserver\\library\\illdesk.db"))
    with pytest.raises(DatabaseConfigError, match="network share"):
        create_database_engine("sqlite:////" + "/fileserver/library/illdesk.db")


def test_local_disk_is_not_a_network_share(tmp_path: Path) -> None:
    assert not is_network_path(tmp_path / "illdesk.db")


def test_unreachable_server_says_what_to_check() -> None:
    with pytest.raises(DatabaseUnavailable, match="Check the network"):
        open_database("postgresql://postgres@127.0.0.1:1/illdesk")


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(DatabaseConfigError, match="Unsupported database URL"):
        create_database_engine("mysql://root@localhost/illdesk")


def test_the_head_the_code_expects_is_the_newest_migration_script() -> None:
    assert schema.head_revision() == schema.scripts_head()


def test_one_open_per_item_indexes_are_partial_on_both_databases() -> None:
    """Unique among open rows only: without the WHERE an item could never be lent twice."""
    add_postgresql_conditions(Base.metadata)  # as the migrations' environment does
    for table, condition in [
        ("loans", "returned_at IS NULL"),
        ("transits", "received_at IS NULL"),
        ("hold_shelf_entries", "status = 'active'"),
        ("in_house_uses", "ended_at IS NULL"),
    ]:
        [index] = [
            i for i in Base.metadata.tables[table].indexes if i.name.endswith("open_per_item")
        ]
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            ddl = str(CreateIndex(index).compile(dialect=dialect))
            assert ddl.startswith("CREATE UNIQUE INDEX") and ddl.endswith(f"WHERE {condition}")


def test_a_sqlite_desk_does_not_load_the_postgresql_dialect() -> None:
    """Part of start-up time: the models alone must not pull in SQLAlchemy's PostgreSQL side."""
    code = "import sys, db.models; print('sqlalchemy.dialects.postgresql' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"
