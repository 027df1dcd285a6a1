"""`illdesk import requests`: a new request is told to its patron as one entered in the
window is; the ILL office's virtual branch is never a pickup branch; bad rows are named."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli.main import parse, run
from db.engine import Database
from db.models import IllRequest, Notice

HEADER = (
    "request_number,kind,patron_id,pickup_branch,title,author,article_title,"
    "article_author,volume,issue,issue_date,pages,lender\n"
)


def cli(*argv: str) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, [json.loads(line) for line in out.getvalue().splitlines() if line], err.getvalue()


@pytest.fixture
def db(database_url: str) -> str:
    assert cli("--db", database_url, "demo", "--json")[0] == 0
    return database_url


def test_import_queues_the_received_notice_and_refuses_the_office_as_pickup(
    db: str, tmp_path: Path
) -> None:
    csv = tmp_path / "requests.csv"
    csv.write_text(
        HEADER
        + "30000021,loan,T00123456,NEC,Moby-Dick,Melville,,,,,,,OKT\n"
        + "30000022,loan,T00123456,WS-ILL,Nowhere to collect,,,,,,,,OKT\n",
        encoding="utf-8",
    )
    code, records, _ = cli(
        "--db", db, "--json", "import", "requests", str(csv), "--strict", "--staff", "office"
    )
    assert code == 1
    assert records[0]["line"] == 3 and "WS-ILL" in str(records[0]["error"])
    assert records[-1] == {
        "inserted": 0, "updated": 0, "unchanged": 0, "bad_rows": 1, "committed": False,
    }  # fmt: skip
    code, records, _ = cli(
        "--db", db, "--json", "import", "requests", str(csv), "--staff", "office"
    )
    assert code == 1 and records[-1]["inserted"] == 1 and records[-1]["committed"] is True
    database = Database(db)
    try:
        with database.reading() as session:
            numbers = set(session.scalars(select(IllRequest.request_number)))
            assert "30000021" in numbers and "30000022" not in numbers
            queued = session.scalar(
                select(func.count())
                .select_from(Notice)
                .join(IllRequest, IllRequest.id == Notice.request_id)
                .where(IllRequest.request_number == "30000021", Notice.kind == "request_received")
            )
            assert queued == 1
    finally:
        database.dispose()
