"""The screens the main window offers, in navigation order.

Each screen module is imported only when its page is first shown, so a screen that fails to
import shows a message page instead of stopping the desk. A screen class is constructed as
`cls(session: DeskSession, parent=None)` and may define `activate()`, called each time the
screen becomes visible (for example to put focus on a scan field).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.library.vocabulary import Role


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    title: str
    module: str
    class_name: str
    shortcut: str
    min_role: Role = Role.DESK  # staff below this role do not see the screen


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("checkIn", "Check In", "ui.screens.check_in_screen", "CheckInScreen", "F2"),
    ScreenSpec("checkOut", "Check Out", "ui.screens.check_out_screen", "CheckOutScreen", "F3"),
    ScreenSpec("patrons", "Patrons", "ui.screens.patrons_screen", "PatronsScreen", "F4"),
    ScreenSpec(
        "illOffice",
        "ILL Office",
        "ui.screens.ill_office_screen",
        "IllOfficeScreen",
        "F5",
        Role.ILL_OFFICE,
    ),
    ScreenSpec("lending", "Lending", "ui.screens.lending_screen", "LendingScreen", "F6", Role.CTL),
    # ILL office staff see only its audit-trail tab; every other tab is for admins.
    ScreenSpec("admin", "Admin", "ui.screens.admin_screen", "AdminScreen", "F7", Role.ILL_OFFICE),
    ScreenSpec(
        "reports", "Reports", "ui.screens.reports_screen", "ReportsScreen", "F8", Role.ILL_OFFICE
    ),
    # Every campus desk: its hold-shelf items past pickup-by, to pull today.
    ScreenSpec(
        "holdsToPull", "Holds to Pull", "ui.screens.holds_to_pull_screen", "HoldsToPullScreen", "F9"
    ),
)


def screen_by_key(key: str) -> ScreenSpec:
    for spec in SCREENS:
        if spec.key == key:
            return spec
    raise KeyError(key)
