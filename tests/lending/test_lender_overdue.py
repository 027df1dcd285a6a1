"""Overdue from the borrower at 21 days, lost and billable at 42, each message exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.lending import overdue_at_borrowers, pull_list, shipping
from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from app.notices import templates
from db.models import Item, ItemStatus, Notice, NoticeStatus, RequestStatus

ActorAt = Callable[[str, str], Actor]


@pytest.fixture
def lent(demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock) -> str:
    """A fresh loan to OKT, due tomorrow; the demo's older loans are taken out of the way."""
    office, ctl = actor_at("office", "WS-ILL"), actor_at("ctl", "METRO")
    for view in pull_list.list_lending(demo_rt, office, statuses=(RequestStatus.SHIPPED,)):
        shipping.record_return(demo_rt, office, view.request_number)
    created = pull_list.create_lending_request(
        demo_rt,
        office,
        borrower_symbol="OKT",
        partner_request_number="7712345",
        item="Texas Politics Today",
        pull_branch="METRO",
    )
    pull_list.checkout_to_ill(demo_rt, ctl, created.request_number, "ILL")
    shipping.ship(demo_rt, office, created.request_number, clock.today() + timedelta(days=1))
    return created.request_number


def _kinds(rt: Runtime) -> list[str]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(Notice.kind)
                .where(Notice.kind.in_(overdue_at_borrowers.KINDS))
                .order_by(Notice.id)
            )
        )


def test_thresholds_around_21_and_42_days(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock, lent: str
) -> None:
    office = actor_at("office", "WS-ILL")
    due = clock.today() + timedelta(days=1)

    def review_on(days_overdue: int) -> overdue_at_borrowers.OverdueReview:
        clock.set_date(due + timedelta(days=days_overdue))
        return overdue_at_borrowers.review_overdue(demo_rt, office)

    day20 = review_on(20)
    assert day20.entries == () and day20.prepared_now == ()

    day21 = review_on(21)
    (entry,) = day21.entries
    assert entry.request.request_number == lent and entry.days_overdue == 21
    assert entry.stage is overdue_at_borrowers.OverdueStage.OVERDUE
    (message,) = day21.prepared_now
    assert message.kind == "lender_overdue" and message.partner_symbol == "OKT"
    assert "Days overdue:       21" in message.body
    assert "your request 7712345" in message.subject and "OKT" in message.body
    assert message.status is NoticeStatus.HELD
    assert entry.messages == (message,)

    day41 = review_on(41)
    assert day41.prepared_now == () and day41.became_lost == ()
    assert day41.entries[0].stage is overdue_at_borrowers.OverdueStage.OVERDUE

    day42 = review_on(42)
    assert day42.became_lost == (lent,)
    (lost,) = day42.prepared_now
    assert lost.kind == "lender_lost" and "42 days overdue and is now considered lost" in lost.body
    assert "(Replacement for request #7712345)" in lost.body and "only our symbol EXC" in lost.body
    (entry,) = day42.entries
    assert entry.stage is overdue_at_borrowers.OverdueStage.LOST_BILLABLE
    assert [m.kind for m in entry.messages] == ["lender_overdue", "lender_lost"]

    day43 = review_on(43)
    assert day43.prepared_now == () and day43.became_lost == ()
    assert day43.entries[0].days_overdue == 43
    assert _kinds(demo_rt) == ["lender_overdue", "lender_lost"]
    with demo_rt.db.reading() as session:
        barcode = entry.request.item_barcode
        item = session.scalars(select(Item).where(Item.barcode == barcode)).one()
        assert item.status is ItemStatus.LOST


def test_thresholds_are_library_settings(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock, lent: str
) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, lender_overdue_days=10, lender_lost_days=30)
    office = actor_at("office", "WS-ILL")
    due = clock.today() + timedelta(days=1)
    clock.set_date(due + timedelta(days=9))
    assert overdue_at_borrowers.review_overdue(demo_rt, office).entries == ()
    clock.set_date(due + timedelta(days=10))
    assert [m.kind for m in overdue_at_borrowers.review_overdue(demo_rt, office).prepared_now] == [
        "lender_overdue"
    ]
    clock.set_date(due + timedelta(days=30))
    assert overdue_at_borrowers.review_overdue(demo_rt, office).became_lost == (lent,)


def test_demo_items_25_and_45_days_overdue(demo_rt: Runtime, actor_at: ActorAt) -> None:
    review = overdue_at_borrowers.review_overdue(demo_rt, actor_at("office", "WS-ILL"))
    stages = {e.request.borrower_symbol: (e.stage, e.days_overdue) for e in review.entries}
    assert stages == {
        "IXA": (overdue_at_borrowers.OverdueStage.OVERDUE, 25),
        "UIU": (overdue_at_borrowers.OverdueStage.LOST_BILLABLE, 45),
    }
    # Already lost at the first review: only the lost message, never a stale reminder.
    kinds = {e.request.borrower_symbol: [m.kind for m in e.messages] for e in review.entries}
    assert kinds == {"IXA": ["lender_overdue"], "UIU": ["lender_lost"]}
    again = overdue_at_borrowers.review_overdue(demo_rt, actor_at("office", "WS-ILL"))
    assert again.prepared_now == ()
    with demo_rt.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == len(review.prepared_now)


def test_edit_and_mark_sent(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    review = overdue_at_borrowers.review_overdue(demo_rt, office)
    message = review.prepared_now[0]
    with pytest.raises(InvalidInput, match="empty"):
        overdue_at_borrowers.edit_message(
            demo_rt, office, message.notice_id, subject="x", body="  "
        )
    edited = overdue_at_borrowers.edit_message(
        demo_rt, office, message.notice_id, subject="Overdue item", body="Please return it."
    )
    assert (edited.subject, edited.body) == ("Overdue item", "Please return it.")
    sent = overdue_at_borrowers.mark_message_sent(demo_rt, office, message.notice_id)
    assert sent.status is NoticeStatus.SENT and sent.sent_at == demo_rt.clock.now()
    with pytest.raises(Conflict, match="already"):
        overdue_at_borrowers.mark_message_sent(demo_rt, office, message.notice_id)
    with pytest.raises(Conflict, match="already sent"):
        overdue_at_borrowers.edit_message(demo_rt, office, message.notice_id, subject="a", body="b")
    with pytest.raises(NotFound):
        overdue_at_borrowers.mark_message_sent(demo_rt, office, 999999)


def test_messages_use_the_librarys_own_wording(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock, lent: str
) -> None:
    office = actor_at("office", "WS-ILL")
    templates.save_template(
        demo_rt,
        actor_at("admin", "NEC"),
        "lender_overdue",
        "Still waiting: {{ title }}",
        "{{ borrower_symbol }}, it is {{ days_overdue }} days late.",
    )
    clock.set_date(clock.today() + timedelta(days=22))
    (message,) = overdue_at_borrowers.review_overdue(demo_rt, office).prepared_now
    assert message.subject == "Still waiting: Texas Politics Today"
    assert message.body.strip() == "OKT, it is 21 days late."


def test_only_the_ill_office_reviews(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied, match="ill_office"):
        overdue_at_borrowers.review_overdue(demo_rt, actor_at("ctl", "METRO"))
    assert _kinds(demo_rt) == []


def test_two_desks_reviewing_at_once_prepare_each_message_once(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    start = threading.Barrier(2)
    results: list[overdue_at_borrowers.OverdueReview] = []
    errors: list[BaseException] = []

    def review() -> None:
        start.wait()
        try:
            results.append(overdue_at_borrowers.review_overdue(demo_rt, office))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=review) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r.prepared_now) for r in results) == [0, 2]
    assert sorted(_kinds(demo_rt)) == ["lender_lost", "lender_overdue"]
