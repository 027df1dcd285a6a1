"""`illdesk notices show|resend|compose|patron` from a script, with --json."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from app.cli.main import parse, run
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from db.models import Notice, NoticeStatus
from tests.notices.test_notices_smtp import notice_row, queue_for

OFFICE = ("--staff", "office")
KEYS = {
    "id", "kind", "label", "status", "recipient", "patron_id", "patron_name",
    "partner_symbol", "subject", "body", "attempts", "last_error", "held_reason",
    "created_at", "next_attempt_at", "sent_at",
}  # fmt: skip


@pytest.fixture
def cli(
    demo_rt: Runtime, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: clock)

    def call(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(parse(["--db", database_url, "--json", *argv]), out, err)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return code, rows, err.getvalue()

    return call


def test_compose_show_resend_and_a_patrons_notices(cli: Any, demo_rt: Runtime) -> None:
    code, rows, _ = cli(
        "notices", "compose", "--patron", "T00123456", "--template", "overdue", *OFFICE
    )
    assert code == 0 and set(rows[0]) == KEYS
    composed = rows[0]
    assert (composed["kind"], composed["status"]) == ("overdue", "held")
    code, rows, _ = cli("notices", "show", str(composed["id"]), *OFFICE)
    assert code == 0 and rows[0]["body"] == composed["body"]

    code, rows, _ = cli("notices", "resend", str(composed["id"]), *OFFICE)
    assert code == 1 and rows[0]["error"] == "conflict"  # not sent yet
    sent_id = queue_for(demo_rt, "request_received", "T00123456")
    with demo_rt.db.transaction() as session:  # as the outbox leaves a delivered notice
        row = session.get_one(Notice, sent_id)
        row.status, row.subject, row.body = NoticeStatus.SENT, "Received", "We have it."
    code, rows, _ = cli("notices", "resend", str(sent_id), *OFFICE)
    assert code == 0 and rows[0]["status"] == "queued" and rows[0]["body"] == "We have it."
    assert notice_row(demo_rt, sent_id).status is NoticeStatus.SENT

    code, rows, _ = cli("notices", "patron", "T00123456", *OFFICE)
    assert code == 0
    assert [r["id"] for r in rows][:3] == [rows[0]["id"], sent_id, composed["id"]]
    code, rows, _ = cli(
        "notices", "compose", "--patron", "T00123456", "--template", "nope", *OFFICE
    )
    assert code == 1 and "not a patron notice template" in rows[0]["message"]
    code, rows, _ = cli("notices", "patron", "T00123456", "--staff", "desk", "--branch", "METRO")
    assert code == 0 and rows  # desk staff see a patron's notices too
