"""Soak test (not CI): many desks scanning against one PostgreSQL while faults are injected.

N desks (threads, each with its own engine and pool, like separate PCs) check in a small
set of the library's own items, moving them back and forth between branches so desks
collide on the same rows. Meanwhile a fault thread kills desk connections
(`pg_terminate_backend`) and holds item rows locked past the 2 s lock timeout.

A desk does what the real one does: when the database fails, the scan goes into that
desk's offline journal with the scan's idempotency key; the journals are replayed at the
end. Each scan's key is also written as the audit event's workstation tag, so the figures
are counted from the database itself:

- applied: scans with exactly one check-in audit event;
- rejected: scans the service refused or that had nothing to change, by outcome;
- lost: scans the desk confirmed (applied, or journaled) that left no trace: must be 0;
- duplicated: scans applied more than once: must be 0.

    python -m bench.soak --seconds 120 --desks 8
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.demo import load_demo
from app.desk.checkin import check_in
from app.library.actors import Actor, unattended
from app.library.clock import SystemClock
from app.library.errors import DatabaseUnavailable, ServiceError
from app.library.runtime import Runtime
from app.offline.journal import OfflineAction, OfflineJournal
from app.offline.replay import EntryStatus, replay_journal
from app.people.staff import actor_for
from db import schema
from db.engine import DISCARDED, Database, create_database_engine
from db.models import AuditEvent, Item, ItemStatus

DEFAULT_URL = os.environ.get(
    "ILLDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BRANCHES = ("METRO", "NEC", "SE", "WEST")
HOT_ITEMS = 12  # few items, many desks: collisions on the same rows are the point


@dataclass
class DeskTally:
    attempted: int = 0
    confirmed_online: set[str] = field(default_factory=set)  # applied, said the service
    journaled: set[str] = field(default_factory=set)
    rejected: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def _create_database(server: str) -> str:
    name = f"illdesk_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


def _drop_database(server: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _hot_items(db: Database) -> list[str]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(Item.barcode)
                .where(Item.status == ItemStatus.AVAILABLE, Item.barcode.like("3%"))
                .order_by(Item.id)
                .limit(HOT_ITEMS)
            )
        )


def _desk(
    url: str,
    number: int,
    items: list[str],
    journal: OfflineJournal,
    stop: threading.Event,
    tally: DeskTally,
    seed: int,
) -> None:
    rng = random.Random(seed)
    db = Database(url)
    rt = Runtime(db, SystemClock())
    actors: dict[str, Actor] = {}
    try:
        while not stop.is_set():
            branch = rng.choice(BRANCHES)
            barcode = rng.choice(items)
            key = str(uuid.uuid4())
            tally.attempted += 1
            try:
                if branch not in actors:
                    actors[branch] = actor_for(rt, "desk", branch, f"soak-desk-{number}")
                actor = replace(actors[branch], workstation=key)
                result = check_in(rt, actor, barcode, idempotency_key=key)
            except (OperationalError, DatabaseUnavailable) as exc:
                # As the desk does: the scan goes into the journal under its key (a lost
                # COMMIT reply included: the replay finds out whether it happened).
                if isinstance(exc, OperationalError):
                    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "error"
                else:
                    reason = f"{exc.code}: {exc.message}"
                tally.errors[reason[:60]] += 1
                journal.record(
                    at=rt.clock.now(),
                    branch=branch,
                    staff="desk",
                    action=OfflineAction.CHECKIN,
                    barcode=barcode,
                    workstation=key,
                    key=key,
                )
                tally.journaled.add(key)
                continue
            except ServiceError as exc:
                tally.rejected[exc.code] += 1
                continue
            if result.changed:
                tally.confirmed_online.add(key)
            else:
                tally.rejected[result.outcome.value] += 1
    finally:
        db.dispose()


def _faults(url: str, items: list[str], stop: threading.Event, faults: Counter[str]) -> None:
    rng = random.Random(7)
    name = make_url(url).database
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        while not stop.wait(rng.uniform(0.3, 1.5)):
            try:
                if rng.random() < 0.5:
                    with engine.connect() as conn:
                        killed = conn.execute(
                            text(
                                "SELECT count(pg_terminate_backend(pid)) FROM ("
                                " SELECT pid FROM pg_stat_activity WHERE datname = :n"
                                " AND application_name = 'illdesk' AND pid <> pg_backend_pid()"
                                " ORDER BY random() LIMIT 2) victims"
                            ),
                            {"n": name},
                        ).scalar()
                        conn.commit()
                    faults["connections killed"] += int(killed or 0)
                else:
                    barcode = rng.choice(items)
                    with engine.connect() as conn:
                        conn.execute(
                            text("SELECT id FROM items WHERE barcode = :b FOR UPDATE"),
                            {"b": barcode},
                        )
                        stop.wait(2.5)  # past the desks' 2 s lock timeout
                        conn.rollback()
                    faults["rows held locked 2.5 s"] += 1
            except OperationalError:
                faults["fault injection failed"] += 1
    finally:
        engine.dispose()


def _replay_all(
    url: str, journals: list[OfflineJournal]
) -> tuple[Counter[str], dict[str, set[str]]]:
    statuses: Counter[str] = Counter()
    keys: dict[str, set[str]] = {}
    db = Database(url)
    rt = Runtime(db, SystemClock())
    try:
        for journal in journals:
            for _attempt in range(20):
                report = replay_journal(rt, unattended("soak replay"), journal)
                if report.complete:
                    for entry in report.entries:
                        statuses[entry.status.value] += 1
                        keys.setdefault(entry.status.value, set()).add(entry.key)
                        if entry.status is EntryStatus.CONFLICT:
                            statuses[f"conflict:{entry.code}"] += 1
                    break
    finally:
        db.dispose()
    return statuses, keys


def run(server: str, seconds: float, desks: int, keep: bool) -> int:
    url = _create_database(server)
    workdir = Path(tempfile.mkdtemp(prefix="illdesk-soak-"))
    try:
        setup = Database(url)
        load_demo(Runtime(setup, SystemClock()), unattended("soak setup"))
        items = _hot_items(setup)
        setup.dispose()
        stop = threading.Event()
        tallies = [DeskTally() for _ in range(desks)]
        journals = [OfflineJournal(workdir / f"desk{n}") for n in range(desks)]
        faults: Counter[str] = Counter()
        threads = [
            threading.Thread(
                target=_desk,
                args=(url, n, items, journals[n], stop, tallies[n], 1000 + n),
                name=f"desk-{n}",
            )
            for n in range(desks)
        ]
        threads.append(threading.Thread(target=_faults, args=(url, items, stop, faults)))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        stop.wait(seconds)
        stop.set()
        for thread in threads:
            thread.join(30)
        elapsed = time.monotonic() - started
        replayed, replayed_keys = _replay_all(url, journals)

        db = Database(url)
        with db.reading() as session:
            per_scan = Counter(
                dict(
                    session.execute(
                        select(AuditEvent.workstation, func.count())
                        .where(AuditEvent.action == "check_in")
                        .group_by(AuditEvent.workstation)
                    ).all()
                )
            )
        db.dispose()
        attempted = sum(t.attempted for t in tallies)
        confirmed = set().union(*(t.confirmed_online for t in tallies))
        journaled = set().union(*(t.journaled for t in tallies))
        applied = sum(1 for n in per_scan.values() if n == 1)
        duplicated = sum(1 for n in per_scan.values() if n > 1)
        lost_online = sum(1 for key in confirmed if per_scan.get(key, 0) == 0)
        waiting = sum(j.pending() for j in journals)
        rejected: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for tally in tallies:
            rejected.update(tally.rejected)
            errors.update(tally.errors)

        print(f"soak: {desks} desks, {elapsed:.0f} s, {len(items)} hot items")
        print(f"  attempted          {attempted}")
        print(f"  applied            {applied}")
        print(f"    online           {len(confirmed)}")
        print(f"    journaled        {len(journaled)} (replayed: {dict(replayed)})")
        print(f"  rejected           {sum(rejected.values())} (refused, or nothing to change)")
        for reason, count in rejected.most_common():
            print(f"    {reason:<26} {count}")
        print(f"  database errors    {sum(errors.values())} (the desk journaled those scans)")
        for reason, count in errors.most_common(5):
            print(f"    {reason:<60} {count}")
        by_replay = journaled & replayed_keys.get(EntryStatus.APPLIED.value, set())
        before = journaled & replayed_keys.get(EntryStatus.ALREADY_APPLIED.value, set())
        unaccounted = journaled - by_replay - before
        print(f"  faults injected    {dict(faults)}")
        print(f"  pooled connections discarded (could not be reset) {DISCARDED.count}")
        print(f"  journaled scans    {len(journaled)}: {len(by_replay)} applied by the replay, ")
        print(f"                     {len(before)} already applied, {len(unaccounted)} unaccounted")
        print(f"  lost               {lost_online + waiting}")
        print(f"  duplicated         {duplicated}")
        good = lost_online + waiting == 0 and duplicated == 0 and not unaccounted
        return 0 if good else 1
    finally:
        if not keep:
            _drop_database(server, url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--desks", type=int, default=8)
    parser.add_argument("--server", default=DEFAULT_URL, help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the soak database")
    args = parser.parse_args(argv)
    return run(args.server, args.seconds, args.desks, args.keep)


if __name__ == "__main__":
    sys.exit(main())
