"""A library-sized database for the benchmarks, on SQLite or the local PostgreSQL.

Full size is 1,000,000 items, 200,000 patrons, 300,000 ILL requests and 2,000,000 past loans;
`--scale 0.01` makes a 1% copy for a quick run. The schema comes from the real migrations
(`db.schema.upgrade`, every index included) and the demo library (branches, staff, settings);
the bulk rows then go in with executemany (SQLite) or COPY (PostgreSQL) into the indexed
tables, as a library's own data would sit after years of use.

A pool of checked-out items (`OPEN_LOANS`) gives the check-in benchmarks real work: each
check-in ends a loan, and half of them also start a transit to another branch.

    python -m bench.datagen --backend sqlite --scale 0.01
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import demo
from app.library.actors import unattended
from app.library.runtime import Runtime
from db import schema
from db.engine import Database, create_database_engine

PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FULL = {"items": 1_000_000, "patrons": 200_000, "requests": 300_000, "loans": 2_000_000}
OPEN_LOANS = 6_000  # checked-out items the check-in benchmarks consume (at most half the items)
DESK_BRANCH = "METRO"
SEED = 20_261_122
CHUNK = 20_000
DATA_DIR = Path(__file__).resolve().parent / "data"
WORDS = (
    "history", "theory", "science", "letters", "river", "empire", "ocean", "music", "garden",
    "city", "night", "war", "peace", "light", "stone", "glass", "iron", "silver", "north", "south",
    "winter", "summer", "journal", "review", "studies", "annals", "introduction", "handbook",
    "principles", "methods", "practice", "modern", "ancient", "world", "society", "law",
    "medicine", "chemistry", "physics", "biology", "language", "poetry", "novel", "art", "design",
    "economics", "nature",
)  # fmt: skip
FIRST = "Ana Ben Carla Dev Elif Farah Gus Hana Ivo Jun Kai Lena Mo Nia Omar Pia Raj Sol Tess Uma"
LAST = "Adams Bauer Chen Diaz Evans Fox Garcia Hill Ito Jones Khan Lopez Meyer Nagy Okafor Park"
LENDERS = ("OKT", "TXA", "IXA", "UIU", "ZCU", "TXH", "OCL", "CGP")


@dataclass(frozen=True)
class Sizes:
    items: int
    patrons: int
    requests: int
    loans: int
    open_loans: int

    @staticmethod
    def at(scale: float) -> Sizes:
        counts = {name: max(10, round(n * scale)) for name, n in FULL.items()}
        return Sizes(**counts, open_loans=min(OPEN_LOANS, counts["items"] // 2))


@dataclass(frozen=True)
class Generated:
    """Where the data is and how much of it there is (written next to a SQLite file)."""

    url: str
    backend: str
    scale: float
    sizes: Sizes
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "backend": self.backend,
            "scale": self.scale,
            "sizes": self.sizes.__dict__,
            "seconds": round(self.seconds, 1),
        }


def scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def sqlite_path(scale: float) -> Path:
    return DATA_DIR / f"bench-{scale_tag(scale)}.db"


def pg_database_name(scale: float) -> str:
    """`ILLDESK_BENCH_PG_PREFIX` keeps two checkouts benchmarking at once on separate databases."""
    prefix = os.environ.get("ILLDESK_BENCH_PG_PREFIX", "illdesk_bench")
    return f"{prefix}_{scale_tag(scale)}"


# -- rows -----------------------------------------------------------------------------------


class _Rows:
    """Deterministic rows; timestamps in the backend's own form (SQLite stores text)."""

    def __init__(self, sqlite: bool, branch_ids: Sequence[int], first_ids: dict[str, int]):
        self.rng = random.Random(SEED)
        self.sqlite = sqlite
        self.branches = list(branch_ids)
        self.first = first_ids
        base = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
        moments = [base - timedelta(minutes=37 * i) for i in range(4000)]
        self.moments: list[Any] = [self._dt(m) for m in moments]
        days = [date(2026, 11, 1) - timedelta(days=i) for i in range(1500)]
        self.days: list[Any] = [d.isoformat() if sqlite else d for d in days]
        self.true: Any = 1 if sqlite else True
        self.false: Any = 0 if sqlite else False

    def _dt(self, moment: datetime) -> Any:
        if self.sqlite:
            return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return moment

    def when(self) -> Any:
        return self.moments[self.rng.randrange(len(self.moments))]

    def day(self) -> Any:
        return self.days[self.rng.randrange(len(self.days))]

    def title(self) -> str:
        pick = self.rng.sample(WORDS, self.rng.randint(2, 5))
        return " ".join(pick).capitalize()

    def branch(self) -> int:
        return self.branches[self.rng.randrange(len(self.branches))]


ITEM_COLUMNS = [
    "id",
    "barcode",
    "kind",
    "status",
    "title",
    "title_key",
    "author",
    "home_branch_id",
    "current_branch_id",
    "request_id",
    "lender_barcode",
    "lender_due_date",
    "in_library_use_only",
    "note",
    "received_at",
    "closed_at",
    "created_at",
    "version",
]
PATRON_COLUMNS = [
    "id",
    "patron_id",
    "barcode",
    "first_name",
    "last_name",
    "name_key",
    "email",
    "patron_type",
    "home_branch_id",
    "is_ill_dummy",
    "staff_id",
    "created_at",
    "updated_at",
]
REQUEST_COLUMNS = [
    "id",
    "request_number",
    "direction",
    "kind",
    "status",
    "title",
    "author",
    "article_title",
    "article_author",
    "volume",
    "issue",
    "issue_date",
    "pages",
    "patron_id",
    "pickup_branch_id",
    "lender_symbol",
    "borrower_symbol",
    "partner_request_number",
    "item_id",
    "pull_branch_id",
    "lend_due_date",
    "status_note",
    "cancel_reason",
    "copy_available_at",
    "copy_views",
    "requested_by_staff",
    "created_at",
    "updated_at",
    "closed_at",
]
LOAN_COLUMNS = [
    "id",
    "item_id",
    "patron_id",
    "branch_id",
    "staff_id",
    "checked_out_at",
    "due_date",
    "strap_due_date",
    "adjustment_reason",
    "returned_at",
    "returned_branch_id",
    "anonymised_at",
]


def owned_barcode(n: int) -> str:
    """A 14-digit library barcode (Codabar style), distinct from straps and demo items."""
    return f"39{n:012d}"


def _patrons(r: _Rows, sizes: Sizes) -> Iterator[tuple[Any, ...]]:
    first_names, last_names = FIRST.split(), LAST.split()
    for n in range(sizes.patrons):
        first, last = first_names[n % len(first_names)], last_names[(n // 7) % len(last_names)]
        created = r.when()
        yield (
            r.first["patrons"] + n,
            f"T{90_000_000 + n:08d}",
            f"P{n:09d}",
            first,
            f"{last}{n}",
            f"{last.lower()}{n} {first.lower()}",
            f"p{n}@students.example.edu",
            "student" if n % 9 else "faculty",
            r.branch(),
            r.false,
            None,
            created,
            created,
        )


def _owned_items(r: _Rows, sizes: Sizes, owned: int) -> Iterator[tuple[Any, ...]]:
    for n in range(owned):
        title = r.title()
        home = r.branch()
        checked_out = n < sizes.open_loans
        status = "checked_out" if checked_out else "available"
        yield (
            r.first["items"] + n,
            owned_barcode(n),
            "owned",
            status,
            title,
            title.lower(),
            "Author " + r.rng.choice(LAST.split()),
            home,
            None if checked_out else home,
            None,
            None,
            None,
            r.false,
            "",
            None,
            None,
            r.when(),
            1,
        )


def _requests(r: _Rows, sizes: Sizes, owned: int) -> Iterator[tuple[Any, ...]]:
    for n in range(sizes.requests):
        lending = n % 5 == 0
        created = r.when()
        closed = r.when()
        patron = None if lending else r.first["patrons"] + r.rng.randrange(sizes.patrons)
        item = r.first["items"] + sizes.open_loans + r.rng.randrange(owned - sizes.open_loans)
        yield (
            r.first["requests"] + n,
            f"B{n:09d}",
            "lending" if lending else "borrowing",
            "copy" if n % 11 == 0 else "loan",
            "closed",
            r.title(),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            patron,
            None if lending else r.branch(),
            None if lending else LENDERS[n % len(LENDERS)],
            LENDERS[n % len(LENDERS)] if lending else None,
            f"X{n}" if lending else None,
            item if lending else None,
            r.branch() if lending else None,
            r.day() if lending else None,
            "",
            None,
            None,
            0,
            r.false,
            created,
            closed,
            closed,
        )


def _temporary_items(r: _Rows, sizes: Sizes, owned: int, temporary: int) -> Iterator[Any]:
    from app.library.scanning import strap_barcode

    for n in range(temporary):
        request = r.first["requests"] + n * 5 + 1  # borrowing requests (never n % 5 == 0)
        title = r.title()
        yield (
            r.first["items"] + owned + n,
            strap_barcode(5_000_000 + n),
            "temporary",
            "closed",
            title,
            title.lower(),
            "",
            r.branch(),
            None,
            request,
            f"L{n:010d}",
            r.day(),
            r.false,
            "",
            r.when(),
            r.when(),
            r.when(),
            1,
        )


def _loans(r: _Rows, sizes: Sizes, owned: int, staff_ids: Sequence[int]) -> Iterator[Any]:
    open_loans = sizes.open_loans
    for n in range(sizes.loans + open_loans):
        is_open = n < open_loans
        out = r.when()
        item = r.first["items"] + (n if is_open else r.rng.randrange(owned))
        anonymised = not is_open and n % 3 == 0
        yield (
            r.first["loans"] + n,
            item,
            None if anonymised else r.first["patrons"] + r.rng.randrange(sizes.patrons),
            r.branch(),
            staff_ids[n % len(staff_ids)],
            out,
            r.day(),
            None,
            None,
            None if is_open else r.when(),
            None if is_open else r.branch(),
            r.when() if anonymised else None,
        )


# -- loading --------------------------------------------------------------------------------


def _chunks(rows: Iterable[tuple[Any, ...]], size: int = CHUNK) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


Loader = Callable[[str, Sequence[str], Iterable[tuple[Any, ...]]], int]


def _sqlite_loader(connection: sqlite3.Connection) -> Loader:
    def load(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        count = 0
        for chunk in _chunks(rows):
            connection.executemany(sql, chunk)
            count += len(chunk)
        return count

    return load


def _pg_loader(connection: Any) -> Loader:
    def load(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    return load


def _first_ids(connection: Any, tables: Sequence[str]) -> dict[str, int]:
    ids = {}
    for name, table in zip(("items", "patrons", "requests", "loans"), tables, strict=True):
        row = connection.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()
        ids[name] = int(row[0]) + 1_000
    return ids


def _bulk(connection: Any, sqlite: bool, sizes: Sizes, say: Callable[[str], None]) -> None:
    load = _sqlite_loader(connection) if sqlite else _pg_loader(connection)
    branch_ids = [
        row[0]
        for row in connection.execute("SELECT id FROM branches WHERE ill_office = false").fetchall()
    ]
    staff_ids = [row[0] for row in connection.execute("SELECT id FROM staff").fetchall()]
    first = _first_ids(connection, ("items", "patrons", "ill_requests", "loans"))
    r = _Rows(sqlite, branch_ids, first)
    temporary = min(sizes.requests // 5, sizes.items // 10)
    owned = sizes.items - temporary
    steps: list[tuple[str, Sequence[str], Iterable[tuple[Any, ...]]]] = [
        ("patrons", PATRON_COLUMNS, _patrons(r, sizes)),
        ("items", ITEM_COLUMNS, _owned_items(r, sizes, owned)),
        ("ill_requests", REQUEST_COLUMNS, _requests(r, sizes, owned)),
        ("items", ITEM_COLUMNS, _temporary_items(r, sizes, owned, temporary)),
        ("loans", LOAN_COLUMNS, _loans(r, sizes, owned, staff_ids)),
    ]
    for table, columns, rows in steps:
        started = time.perf_counter()
        count = load(table, columns, rows)
        say(f"  {table}: {count:,} rows in {time.perf_counter() - started:.1f} s")


def _prepare_schema(url: str) -> None:
    """Migrations to head, then the demo library (branches, staff, settings, a few items)."""
    database = Database(url)
    try:
        schema.upgrade(database.engine)
        demo.load_demo(Runtime(database), unattended("bench setup"))
    finally:
        database.dispose()


def generate_sqlite(scale: float, say: Callable[[str], None] = print) -> Generated:
    """Build (or reuse) the SQLite file for this scale; returns where it is."""
    path = sqlite_path(scale)
    marker = path.with_suffix(".json")
    sizes = Sizes.at(scale)
    url = f"sqlite:///{path}"
    if path.exists() and marker.exists():
        info = json.loads(marker.read_text())
        if info.get("sizes") == sizes.__dict__:
            say(f"SQLite data reused: {path}")
            return Generated(url, "sqlite", scale, sizes, float(info.get("seconds", 0)))
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, marker, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    say(f"SQLite: generating {sizes} into {path}")
    _prepare_schema(url)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-400000")
        connection.execute("BEGIN")
        _bulk(connection, True, sizes, say)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    generated = Generated(url, "sqlite", scale, sizes, time.perf_counter() - started)
    marker.write_text(json.dumps(generated.as_dict(), indent=2))
    say(f"SQLite data ready in {generated.seconds:.0f} s")
    return generated


def _pg_admin(server_url: str, statement: str) -> None:
    engine = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def drop_pg(scale: float, server_url: str = PG_SERVER_URL, name: str | None = None) -> None:
    name = name or pg_database_name(scale)
    _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def generate_pg(
    scale: float,
    server_url: str = PG_SERVER_URL,
    say: Callable[[str], None] = print,
    name: str | None = None,
) -> Generated:
    """A fresh database of our own on the server (dropped first if a run left one behind).

    `name` lets a benchmark keep its own copy beside another benchmark's."""
    import psycopg

    name = name or pg_database_name(scale)
    sizes = Sizes.at(scale)
    started = time.perf_counter()
    drop_pg(scale, server_url, name)
    _pg_admin(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    say(f"PostgreSQL: generating {sizes} into {name}")
    _prepare_schema(url)
    plain = make_url(url).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False)) as connection:
        _bulk(connection, False, sizes, say)
        for table in ("items", "patrons", "ill_requests", "loans"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        connection.commit()
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
    generated = Generated(url, "postgresql", scale, sizes, time.perf_counter() - started)
    say(f"PostgreSQL data ready in {generated.seconds:.0f} s")
    return generated


def working_copy(generated: Generated, name: str) -> str:
    """A SQLite file the benchmark may change, copied from the generated one (PostgreSQL: as is)."""
    if generated.backend != "sqlite":
        return generated.url
    import shutil

    source = Path(make_url(generated.url).database or "")
    target = source.with_name(f"{source.stem}-{name}.db")
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def open_loan_barcodes(url: str, limit: int) -> list[str]:
    """Barcodes of checked-out owned items, oldest first (the pool check-ins consume)."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT barcode FROM items WHERE status = 'checked_out' AND barcode LIKE '39%' "
                    "ORDER BY id LIMIT :n"
                ),
                {"n": limit},
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.datagen", description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = full size, 0.01 = 1%%")
    parser.add_argument("--pg-server", default=PG_SERVER_URL, help="server URL (any database)")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be above 0 and at most 1")
    if args.backend in ("sqlite", "both"):
        generate_sqlite(args.scale)
    if args.backend in ("postgresql", "both"):
        generate_pg(args.scale, args.pg_server)
        if not args.keep:
            drop_pg(args.scale, args.pg_server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
