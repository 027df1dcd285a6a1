"""The words a check-in shows: a headline for the banner and short imperative lines.

Kept apart from the service so the wording can be read (and changed) in one place: online
answers (`word`) and the provisional ones given offline from the desk's snapshot
(`provisional_headline`, `provisional`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.desk.routing import Decision, Outcome
from app.people.patron_names import ends_sentence
from db.models import IllRequest

SCAN_NOT_ACCEPTED = "Scan again: scan not accepted"
_LOST_NOTE = "It was marked lost: tell the ILL office, who remove the patron's charges."


@dataclass(frozen=True)
class Wording:
    headline: str
    instructions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """A branch as a check-in names it: a plain value read with the scan, safe on any thread."""

    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Facts:
    """What the words may mention; every field is optional so problems can be worded too."""

    office: Place | None = None
    office_at: str | None = None  # the campus where a virtual ILL office branch sits
    desk: Place | None = None
    destination: Place | None = None
    home: Place | None = None
    patron: str | None = None
    patron_id: str | None = None
    pickup_by: date | None = None
    request: IllRequest | None = None
    lending: IllRequest | None = None
    in_library_use_only: bool = False
    decision: Decision | None = None


def _day(value: date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else "?"


def _office(f: Facts) -> str:
    code = f.office.code if f.office else "the ILL office"
    return f"{code}, the ILL office at {f.office_at}" if f.office_at else f"{code}, the ILL office"


def _office_code(f: Facts) -> str:
    return f.office.code if f.office else "the ILL office"


def _dest(f: Facts) -> str:
    return f"{f.destination.name} ({f.destination.code})" if f.destination else "?"


def word(outcome: Outcome, routing: Outcome, f: Facts) -> Wording:
    if outcome is Outcome.LENDER_BARCODE and f.decision is not None:
        inner = word(f.decision.outcome, f.decision.routing, f)
        return Wording(
            inner.headline,
            (
                *inner.instructions,
                "You scanned the lender's own barcode. Next time scan the barcode at the TOP "
                "of the strap.",
            ),
        )
    if outcome is Outcome.ALREADY_CHECKED_IN:
        inner = word(routing, routing, f)
        return Wording(
            f"{inner.headline} (already checked in)",  # the action first, read from afar
            ("Checked in here a moment ago; nothing changed.", *inner.instructions[:1]),
        )
    decision = f.decision
    lines: list[str] = []
    if outcome is Outcome.HOLD_SHELF:
        lines = [
            f"Put it on the hold shelf for {f.patron} ({f.patron_id}).",
            f"Pick up by {_day(f.pickup_by)}. The patron is sent a ready-for-pickup notice.",
        ]
        if f.in_library_use_only:
            lines.append("In-library use only: never check it out; record each use.")
        return Wording(f"Put on hold shelf: {f.patron}", tuple(lines))
    if outcome is Outcome.IN_HOUSE_USE_RETURNED:
        return Wording(
            f"Back to hold shelf: {f.patron}",
            (
                f"In-library use ended. Put it back on the hold shelf for {f.patron} "
                f"({f.patron_id}).",
            ),
        )
    if outcome is Outcome.TRANSIT:
        code = f.destination.code if f.destination else "?"
        lines = [f"Route to {_dest(f)} by inter-campus mail, with a transit slip."]
        if f.lending is not None and decision is not None and decision.close_lending:
            lines.append(f"Back from lending (request {f.lending.request_number}): it goes home.")
        elif f.request is not None:
            lines.append(f"ILL item for a patron who picks it up at {code}.")
        if decision is not None and decision.was_lost:
            lines.append(_LOST_NOTE)
        return Wording(f"Send to {code}", tuple(lines))
    if outcome is Outcome.RETURN_TO_ILL_OFFICE:
        lines = [f"Send to {_office(f)}, with a yellow strap, by inter-campus mail."]
        if decision is not None and decision.end_loan:
            lines.append("The patron's loan has ended.")
        if decision is not None and decision.expire_hold:
            lines.append(f"Not picked up by {_day(f.pickup_by)}: taken off the hold shelf.")
        if decision is not None and decision.was_lost:
            lines.append(_LOST_NOTE)
        code = f.office.code if f.office else "ILL office"
        return Wording(f"Return to {code}", tuple(lines))
    if outcome is Outcome.RETURN_TO_LENDER:
        lender = f.request.lender_symbol if f.request and f.request.lender_symbol else "lender"
        lines = [f"Ready to ship back to the lender ({lender}): put it with the items to ship."]
        if decision is not None and decision.was_lost:
            lines.append("It was marked lost: remove the patron's charges if the lender agrees.")
        return Wording("Return to lender", tuple(lines))
    if outcome is Outcome.RESHELVE:
        where = f.home.name if f.home else "this branch"
        lines = [f"Reshelve it here at {where}."]
        if f.lending is not None and decision is not None and decision.close_lending:
            lines.append(f"Back from lending: request {f.lending.request_number} is closed.")
        if decision is not None and decision.was_lost:
            lines.append(_LOST_NOTE)
        return Wording("Reshelve", tuple(lines))
    return _problem(outcome, f)


def _problem(outcome: Outcome, f: Facts) -> Wording:
    office = _office(f)
    if outcome is Outcome.NOT_FOUND:
        return Wording(
            "Try Barcode recovery: not found",
            (
                "No item has this barcode. The scan is logged for the ILL office.",
                "Strap removed from an ILL item? Open Barcode recovery: patron ID or title.",
                f"A book of another library system? Yellow flag, send to {office}.",
            ),
        )
    if outcome is Outcome.REQUEST_CANCELLED:
        number = f.request.request_number if f.request else "?"
        why = f.request.cancel_reason if f.request and f.request.cancel_reason else "no reason"
        return Wording(
            f"Send to {_office_code(f)}: request cancelled",
            (
                f"ILL request {number} was cancelled ({why}).",
                f"Yellow flag, send to {office}. Nothing was changed.",
            ),
        )
    if outcome is Outcome.ON_HOLD_ELSEWHERE:
        code = f.destination.code if f.destination else "?"
        return Wording(
            f"Send back to {code}: on hold there",
            (
                ends_sentence(f"It belongs on the hold shelf at {_dest(f)} for {f.patron}"),
                f"Send it back to {code} by inter-campus mail. Nothing was changed.",
            ),
        )
    if outcome is Outcome.ITEM_CLOSED:
        return Wording(
            f"Send to {_office_code(f)}: loan already closed",
            (
                "This ILL item was already returned to its lender in our records.",
                f"Yellow flag, send to {office}, who sort it out. Nothing was changed.",
            ),
        )
    if outcome is Outcome.PULL_FOR_LENDING:
        number = f.lending.request_number if f.lending else "?"
        borrower = f.lending.borrower_symbol if f.lending and f.lending.borrower_symbol else "?"
        return Wording(
            "Give to your team lead: wanted for lending",
            (
                f"Lending request {number} ({borrower}) asks for this item: do not reshelve.",
                "Give it to your team lead to pull for the ILL office.",
            ),
        )
    if outcome is Outcome.SEE_ILL_OFFICE:
        problem = f.decision.problem if f.decision else ""
        why = {
            "no_request": "This ILL item has no request in our records.",
            "no_pickup_branch": "Its request names no pickup branch.",
            "lending_checkout": "It is checked out to the ILL account for a lending request.",
        }.get(problem, "Its records do not say where it goes.")
        return Wording(
            "Give to the ILL office",
            (why, f"Yellow flag, send to {office}. Nothing was changed."),
        )
    if outcome is Outcome.CHANGED_ELSEWHERE:
        return Wording(
            "Scan again",
            (
                "Another desk changed this item at the same moment. Nothing was changed by "
                "this scan: scan it again.",
            ),
        )
    return Wording(SCAN_NOT_ACCEPTED, ("Scan the barcode at the TOP of the strap.",))


# --- offline: provisional answers from the desk's snapshot --------------------------------

UNKNOWN_OFFLINE = "Unknown: keep aside"
SAVED_OFFLINE = "Saved offline: it is checked in when the database is back."
_PROVISIONAL = {
    Outcome.HOLD_SHELF: "put on the hold shelf here",
    Outcome.TRANSIT: "send to {dest}",
    Outcome.RETURN_TO_ILL_OFFICE: "send to {dest}, the ILL office, with a yellow strap",
    Outcome.RETURN_TO_LENDER: "put with the items to ship back to the lender",
    Outcome.IN_HOUSE_USE_RETURNED: "put back on the hold shelf here",
    Outcome.RESHELVE: "reshelve",
}


def provisional_headline(routing: Outcome | None, destination: str | None) -> str:
    """The banner's words for a routing guessed offline (`None`: the snapshot does not know)."""
    if routing is None:
        return UNKNOWN_OFFLINE
    template = _PROVISIONAL.get(routing)
    if template is None:
        return "Provisional: keep aside, staff must look at this item when the database is back"
    return f"Provisional: {template.format(dest=destination or '?')}"


def is_worded_offline(routing: Outcome) -> bool:
    """Whether the snapshot's guess can name where the item goes (else: keep aside)."""
    return routing in _PROVISIONAL


def provisional(headline: str, destination: str | None, *, known: bool) -> Wording:
    """What a check-in taken offline shows: the guess, and that it was saved for later."""
    if not known:
        return Wording(
            UNKNOWN_OFFLINE,
            (
                "The database cannot be reached and this desk's offline copy does not know "
                "this barcode. Keep the item aside.",
                SAVED_OFFLINE,
            ),
        )
    lines = [SAVED_OFFLINE, "Provisional: check the result when the scans are replayed."]
    if destination:
        lines.insert(0, f"Likely destination: {destination}.")
    return Wording(headline, tuple(lines))
