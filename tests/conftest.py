"""Shared fixtures: each test run gets its own SQLite files and its own PostgreSQL database.

PostgreSQL tests run against the server on 127.0.0.1:5432 (user postgres) or the one in
ILLDESK_TEST_PG_URL. In CI (CI=true) they must run: a missing server fails the run.
Elsewhere, without a server, they skip and say why.

Test modules marked `through_pgbouncer` (the service tests that matter most: check-in,
check-out, receiving, NCIP, sign-in, offline replay) run a third time, through a PgBouncer
in transaction mode this run starts (tests/pgbouncer.py): the backend "pgbouncer". A
machine without pgbouncer fails them with the line to install it; they never skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.demo import DEMO_PASSWORD, load_demo
from app.library.actors import Actor, unattended
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.people.staff import actor_for
from db import roles, schema
from db.engine import Database, create_database_engine
from db.models import Base
from db.models.enums import Role
from tests.pgbouncer import PgBouncerMissing, running_pgbouncer, through

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PG_SERVER_URL = os.environ.get(
    "ILLDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_reachable() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        engine = create_engine(PG_SERVER_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server here"
        return str(exc).splitlines()[0]


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real user's settings, data directory or database."""
    monkeypatch.setenv("ILLDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ILLDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ILLDESK_DATABASE_URL", raising=False)
    # The command line signs --staff in; scripts give the password in this variable.
    monkeypatch.setenv("ILLDESK_PASSWORD", DEMO_PASSWORD)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file each test copies (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_database_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (and xdist worker), with its roles
    (named with the database's own prefix), all dropped at the end."""
    reason = _pg_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI needs the PostgreSQL server at {PG_SERVER_URL}: {reason}")
        pytest.skip(
            f"no PostgreSQL server at {PG_SERVER_URL} ({reason}); "
            "set ILLDESK_TEST_PG_URL to run these tests"
        )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"illdesk_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url)
    schema.upgrade(engine)
    with engine.begin() as conn:  # the roles every desk would have (db/roles.py)
        prefix = roles.install(conn).prefix
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                    "AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            roles.drop_roles(conn, prefix)  # roles are the server's: this run's go too
        admin.dispose()


@pytest.fixture(scope="session")
def pgbouncer_port(pg_database_url: str) -> Iterator[int]:
    """A PgBouncer in transaction mode in front of the test server, for this run."""
    try:
        with running_pgbouncer(PG_SERVER_URL) as port:
            yield port
    except PgBouncerMissing as exc:
        pytest.fail(str(exc))


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `through_pgbouncer` runs on each backend and once through PgBouncer
    (one that names its backends itself lists "pgbouncer" where it applies)."""
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("through_pgbouncer") is None:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        if mark.args and mark.args[0] == "backend":
            return
    # As a mark, so that the backend fixture's own parameters step aside for it.
    metafunc.definition.add_marker(
        pytest.mark.parametrize("backend", ["sqlite", "postgresql", "pgbouncer"], indirect=True)
    )


def _empty_pg(database: Database) -> None:
    """Every table emptied and every id counter back at 1. DELETE with triggers and keys
    off (the test database's owner is a superuser) is ten times faster than TRUNCATE on a
    few dozen rows, which makes new files for every table and index."""
    with database.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in reversed(Base.metadata.sorted_tables):
            conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
        conn.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                "FROM pg_sequences WHERE schemaname = current_schema()"
            )
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database; PostgreSQL tables are emptied again after the test."""
    if backend == "sqlite":
        path = tmp_path / "illdesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = str(request.getfixturevalue("pg_database_url"))
    if backend == "pgbouncer":
        yield through(url, int(request.getfixturevalue("pgbouncer_port")))
    else:
        yield url
    cleaner = Database(url)
    _empty_pg(cleaner)
    cleaner.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def rt(database_url: str, clock: FixedClock) -> Iterator[Runtime]:
    """A runtime on an empty, migrated database of each backend."""
    database = Database(database_url)
    try:
        yield Runtime(database, clock)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def sqlite_demo_template(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Callable[[datetime], Path]:
    """The demo library in an SQLite file, made once per clock time the tests start from."""
    made: dict[datetime, Path] = {}

    def template(now: datetime) -> Path:
        if now not in made:
            path = tmp_path_factory.mktemp("demo") / "demo.db"
            shutil.copyfile(sqlite_template, path)
            database = Database(f"sqlite:///{path}")
            load_demo(Runtime(database, FixedClock(now)), unattended("test setup"))
            database.dispose()  # the last connection folds the WAL back into the file
            assert not path.with_name(path.name + "-wal").exists()
            made[now] = path
        return made[now]

    return template


@pytest.fixture(scope="session")
def pg_demo_template(pg_database_url: str) -> Iterator[Callable[[Runtime], None]]:
    """Loads the demo library into a test's empty PostgreSQL database: the first time for
    a clock time by `load_demo`, whose tables are then kept in a schema of their own; after
    that by copying those tables back in one transaction (a tenth of the time)."""
    database = Database(pg_database_url)
    kept: dict[datetime, tuple[str, list[tuple[str, int]]]] = {}

    def restore(rt: Runtime) -> None:
        now = rt.clock.now()
        if now not in kept:
            load_demo(rt, unattended("test setup"))
            schema_name = f"demo_template_{len(kept)}"
            with database.engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema_name}"')
                for table in Base.metadata.sorted_tables:
                    conn.exec_driver_sql(
                        f'CREATE TABLE "{schema_name}"."{table.name}" AS TABLE "{table.name}"'
                    )
                counters = conn.execute(
                    text(
                        "SELECT format('%I.%I', schemaname, sequencename), last_value "
                        "FROM pg_sequences WHERE schemaname = current_schema() "
                        "AND last_value IS NOT NULL"
                    )
                )
                kept[now] = (schema_name, [(name, int(value)) for name, value in counters])
            return
        schema_name, counters = kept[now]
        with database.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in Base.metadata.sorted_tables:
                conn.exec_driver_sql(
                    f'INSERT INTO "{table.name}" OVERRIDING SYSTEM VALUE '
                    f'SELECT * FROM "{schema_name}"."{table.name}"'
                )
            for name, value in counters:
                conn.execute(text("SELECT setval(:name, :value)"), {"name": name, "value": value})
            # Login roles are the server's: a test before may have changed or removed them.
            for username, role, active in conn.execute(
                text("SELECT username, role, active FROM staff")
            ):
                roles.sync_staff_login(
                    conn, username, Role(role), active=active, password=DEMO_PASSWORD
                )

    yield restore
    database.dispose()


@pytest.fixture
def demo_rt(rt: Runtime, request: pytest.FixtureRequest) -> Runtime:
    """A runtime on the demo library, copied from one loaded once per clock time: loading
    it for each of a thousand tests per database cost minutes of a CI run."""
    if not rt.db.is_sqlite:
        request.getfixturevalue("pg_demo_template")(rt)
        return rt
    path = Path(str(rt.db.engine.url.database))
    rt.db.dispose()  # nothing may hold the empty file while the demo one replaces it
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(request.getfixturevalue("sqlite_demo_template")(rt.clock.now()), path)
    return rt


@pytest.fixture
def actor_at(demo_rt: Runtime) -> Callable[[str, str], Actor]:
    """actor_at("desk", "METRO"): a demo staff member signed in at a branch."""

    def make(username: str, branch: str) -> Actor:
        return actor_for(demo_rt, username, branch, "test-desk")

    return make


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No patron data in logs: scan every log file this test run wrote (tests/log_scan.py)."""
    from tests.log_scan import leaks_under

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or hasattr(session.config, "workerinput"):
        return  # with xdist, the controller scans the workers' folders too
    leaks = leaks_under(factory.getbasetemp())
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line("Patron data found in log files this test run wrote:", red=True)
            for path, values in leaks.items():
                reporter.write_line(f"  {path}: {', '.join(values)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
