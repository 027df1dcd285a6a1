"""A batch job's statements are planned for the arrays they carry, and only its own.

On PostgreSQL a statement run again and again may get one generic plan, which cannot hash
an `= ANY(:values)` of thousands of ids (the privacy run's charge look-up went from 30 to
100 ms a batch). A batch plans for its own values; the setting must not stay on a pooled
connection for the desk's next transaction, directly or through PgBouncer.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.library.runtime import Runtime
from db.bulk import plan_for_these_values


def _plan_mode(rt: Runtime) -> str | None:
    if rt.db.is_sqlite:
        return None
    with rt.db.reading() as session:
        return str(session.scalar(text("SHOW plan_cache_mode")))


@pytest.mark.through_pgbouncer
def test_a_batch_plans_for_its_values_and_leaves_the_next_transaction_as_it_was(
    rt: Runtime,
) -> None:
    before = _plan_mode(rt)
    with rt.db.transaction() as session:
        plan_for_these_values(session)  # on SQLite: nothing to do, and no error
        if not rt.db.is_sqlite:
            assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    assert _plan_mode(rt) == before
    assert before in (None, "auto")
