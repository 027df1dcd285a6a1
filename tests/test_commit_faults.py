"""The connection drops after COMMIT was sent: the desk and the CLI say what really happened.

A TCP proxy between the desk and PostgreSQL lets the COMMIT through, the server commits and
answers, and the proxy throws the answer away and cuts the connection. When the database
answers again at once, the scan's idempotency key says the change was saved; when it stays
away, the answer is "not sure" and the scan waits in the offline journal under its key, so
the replay finds it already applied. Never "nothing was changed".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.cli.main import main
from app.desk.checkin import check_in
from app.desk.checkout import check_out
from app.desk.routing import Outcome
from app.library.actors import Actor
from app.library.errors import OutcomeUnknown
from app.library.runtime import Runtime
from app.offline.journal import OfflineJournal
from db.engine import Database
from db.models import AppliedScan, Item, ItemStatus, Loan
from tests.tcp_proxy import TcpProxy

ActorAt = Callable[[str, str], Actor]
IN_TRANSIT_TO_SE = "ILL00000018"
ON_HOLD_AT_METRO = "ILL00000042"  # for T00123456
PATRON = "T00123456"

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    from tests.conftest import PG_SERVER_URL

    url = make_url(PG_SERVER_URL)
    cut = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    cut.start()
    try:
        yield cut
    finally:
        cut.stop()


@pytest.fixture
def through(database_url: str, proxy: TcpProxy) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def cli_on_the_test_clock(demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: demo_rt.clock)


@pytest.fixture
def desk(demo_rt: Runtime, through: str) -> Iterator[Runtime]:
    rt = Runtime(Database(through), demo_rt.clock)
    yield rt
    rt.db.dispose()


def status_of(rt: Runtime, barcode: str) -> ItemStatus:
    with rt.db.reading() as session:
        found = session.scalar(select(Item.status).where(Item.barcode == barcode))
        assert found is not None
        return found


def loans_of(rt: Runtime, barcode: str) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Loan)
                .join(Item, Item.id == Loan.item_id)
                .where(Item.barcode == barcode)
            )
            or 0
        )


def test_check_in_whose_commit_reply_is_lost_says_it_was_saved(
    desk: Runtime, demo_rt: Runtime, actor_at: ActorAt, proxy: TcpProxy
) -> None:
    se = actor_at("desk", "SE")
    proxy.cut_after_commit(after=b"applied_scans")
    result = check_in(desk, se, IN_TRANSIT_TO_SE)
    assert proxy.cuts == 1, "the fault was never injected"
    assert result.outcome is Outcome.HOLD_SHELF
    assert any("had saved it" in line for line in result.instructions)
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.ON_HOLD_SHELF


def test_check_out_whose_commit_reply_is_lost_says_it_was_saved(
    desk: Runtime, demo_rt: Runtime, actor_at: ActorAt, proxy: TcpProxy
) -> None:
    metro = actor_at("desk", "METRO")
    proxy.cut_after_commit(after=b"applied_scans")
    result = check_out(desk, metro, PATRON, ON_HOLD_AT_METRO)
    assert proxy.cuts == 1, "the fault was never injected"
    assert not result.outcome.refused and "had saved it" in result.message
    assert loans_of(demo_rt, ON_HOLD_AT_METRO) == 1


def test_cli_check_in_after_a_lost_commit_reply_reports_the_change(
    demo_rt: Runtime, through: str, proxy: TcpProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.cut_after_commit(after=b"applied_scans")
    code = main(["--db", through, "--json", "checkin", "--branch", "SE", "--staff", "desk",
                 IN_TRANSIT_TO_SE])  # fmt: skip
    out, err = capsys.readouterr()
    assert proxy.cuts == 1
    assert code == 0 and "nothing was changed" not in (out + err).lower()
    assert json.loads(out)["outcome"] == "hold_shelf"
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.ON_HOLD_SHELF


@pytest.mark.parametrize("action", ["checkin", "checkout"])
def test_cli_says_not_sure_while_the_database_stays_away_and_the_replay_settles_it(
    demo_rt: Runtime,
    through: str,
    proxy: TcpProxy,
    action: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if action == "checkin":
        args = ["checkin", "--branch", "SE", "--staff", "desk", IN_TRANSIT_TO_SE]
        barcode, changed = IN_TRANSIT_TO_SE, ItemStatus.ON_HOLD_SHELF
    else:
        args = ["checkout", "--branch", "METRO", "--staff", "desk", "--patron", PATRON]
        args.append(ON_HOLD_AT_METRO)
        barcode, changed = ON_HOLD_AT_METRO, ItemStatus.CHECKED_OUT
    proxy.cut_after_commit(after=b"applied_scans", stay_down=True)
    code = main(["--db", through, "--json", *args])
    out, err = capsys.readouterr()
    assert proxy.cuts == 1, f"the fault was never injected: {out} {err}"
    assert code == 3
    assert "nothing was changed" not in (out + err).lower() and "Traceback" not in err
    record = json.loads(out)
    assert record["outcome"] == "not_sure" and record["barcode"] == barcode
    assert "Not sure" in record["message"] and "when the database is back" in record["message"]
    assert status_of(demo_rt, barcode) is changed  # it did happen
    journal = OfflineJournal()
    assert [e.key for e in journal.entries()] == [record["key"]]

    proxy.start()  # the database is back: the replay checks the scan
    code = main(
        ["--db", through, "--json", "offline", "replay", str(journal.path), "--staff", "office"]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["status"] == "already_applied" and lines[0]["key"] == record["key"]
    assert lines[-1]["summary"]["applied"] == 0 and code == 0
    if action == "checkout":
        assert loans_of(demo_rt, barcode) == 1  # once, not twice
    with demo_rt.db.reading() as session:
        assert session.get(AppliedScan, record["key"]) is not None


def test_service_raises_not_sure_with_the_key_when_the_database_cannot_be_asked(
    desk: Runtime, actor_at: ActorAt, proxy: TcpProxy
) -> None:
    se = actor_at("desk", "SE")
    proxy.cut_after_commit(after=b"applied_scans", stay_down=True)
    with pytest.raises(OutcomeUnknown) as raised:
        check_in(desk, se, IN_TRANSIT_TO_SE, idempotency_key="6f1c2a4e-7d0b-4c55-9a57-3f7e9b1d2c11")
    assert raised.value.key == "6f1c2a4e-7d0b-4c55-9a57-3f7e9b1d2c11"
    assert "nothing" not in raised.value.message.lower()
