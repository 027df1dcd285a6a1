"""Which family a check-in answer belongs to, and how each family looks and sounds.

A family is what the worker does with the item in hand: shelve it here, send it to another
campus, send it back to the ILL office, look for it with barcode recovery, scan again, or
keep it aside until the database confirms. Each family has its own colour, icon shape and
sound, so "not found" never looks like "scan not accepted". The colours stay apart for
red-green and blue-yellow colour blindness (tests/gui/test_banner_families.py checks them
under simulated colour vision) and every one carries its words with at least 4.5:1 contrast;
the icon's shape and the headline say the same thing, so colour is never the only clue.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.desk.checkin import CheckInResult
from app.desk.routing import Outcome
from app.offline.provisional import OFFLINE_REASON


class Family(StrEnum):
    """The banner's `look` for a check-in; the outcome codes themselves never change."""

    SHELF = "shelf"
    ROUTE = "route"
    ILL_OFFICE = "ill_office"
    NOT_FOUND = "not_found"
    REFUSED = "refused"
    NOT_SURE = "not_sure"


_FAMILIES = {
    Outcome.HOLD_SHELF: Family.SHELF,
    Outcome.IN_HOUSE_USE_RETURNED: Family.SHELF,
    Outcome.RESHELVE: Family.SHELF,
    Outcome.TRANSIT: Family.ROUTE,
    Outcome.ON_HOLD_ELSEWHERE: Family.ROUTE,  # send it back to the campus that holds it
    Outcome.RETURN_TO_ILL_OFFICE: Family.ILL_OFFICE,
    Outcome.RETURN_TO_LENDER: Family.ILL_OFFICE,
    Outcome.REQUEST_CANCELLED: Family.ILL_OFFICE,  # all four: yellow flag, to the office
    Outcome.ITEM_CLOSED: Family.ILL_OFFICE,
    Outcome.SEE_ILL_OFFICE: Family.ILL_OFFICE,
    Outcome.PULL_FOR_LENDING: Family.ILL_OFFICE,
    Outcome.NOT_FOUND: Family.NOT_FOUND,
    Outcome.INVALID_SCAN: Family.REFUSED,
    Outcome.CHANGED_ELSEWHERE: Family.REFUSED,  # scan it again
}


def family_of(result: CheckInResult) -> Family:
    """An answer given offline (or a commit whose reply was lost) is not sure whatever it
    guesses; a repeat or a lender-barcode scan belongs with the routing it repeats."""
    if result.reason == OFFLINE_REASON:
        return Family.NOT_SURE
    outcome = result.outcome
    if outcome in (Outcome.ALREADY_CHECKED_IN, Outcome.LENDER_BARCODE):
        outcome = result.routing
    return _FAMILIES.get(outcome, Family.REFUSED)


@dataclass(frozen=True)
class BannerStyle:
    key: str  # the `look` property, for the style sheet and for tests
    icon: str  # resources/icons/ICON.svg
    background: str
    foreground: str
    label: str  # what the icon means, for screen readers and the history
    colour: str  # the colour's name, as the help says it
    sound: str  # resources/sounds/SOUND.wav


IDLE = BannerStyle("idle", "bannerIdle", "#e9edf1", "#1d1d1d", "Ready", "light grey", "")
GOOD = BannerStyle("good", "bannerGood", "#007a5e", "#ffffff", "Done", "green", "good")
SHELF = BannerStyle("shelf", "bannerShelf", "#007a5e", "#ffffff", "Shelve here", "green", "good")
ROUTE = BannerStyle("route", "bannerMove", "#1f4f8f", "#ffffff", "Send on", "dark blue", "move")
ILL_OFFICE = BannerStyle(
    "ill_office", "bannerOffice", "#f5c400", "#1d1d1d", "To the ILL office", "yellow", "office"
)
NOT_FOUND = BannerStyle(
    "not_found", "bannerNotFound", "#cc79a7", "#1d1d1d", "Not found", "pink", "not_found"
)
REFUSED = BannerStyle(
    "refused", "bannerRefused", "#a4161a", "#ffffff", "Not accepted", "red", "refused"
)
NOT_SURE = BannerStyle(
    "not_sure", "bannerNotSure", "#56b4e9", "#1d1d1d", "Not sure", "light blue", "not_sure"
)

LOOKS = (IDLE, GOOD, SHELF, ROUTE, ILL_OFFICE, NOT_FOUND, REFUSED, NOT_SURE)
FAMILY_LOOKS = {
    Family.SHELF: SHELF,
    Family.ROUTE: ROUTE,
    Family.ILL_OFFICE: ILL_OFFICE,
    Family.NOT_FOUND: NOT_FOUND,
    Family.REFUSED: REFUSED,
    Family.NOT_SURE: NOT_SURE,
}


def style_for(result: CheckInResult) -> BannerStyle:
    return FAMILY_LOOKS[family_of(result)]
