"""The big answer to a scan, readable from two metres: colour AND icon AND words.

Colour alone would fail a colour-blind worker and a glance from the side; the icon's shape and
the headline say the same thing. Each family of answers has its own look (see banner_looks):
returns to the ILL office are yellow, like the strap.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QPixmap, QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.desk.checkin import CheckInResult
from app.desk.routing import Outcome, Tone
from ui.icons import resource_icon
from ui.widgets.banner_looks import IDLE, LOOKS, REFUSED, BannerStyle, style_for

ICON_SIZE = 96


@dataclass(frozen=True)
class BannerScale:
    """Font sizes in pixels for a window this tall: read from two metres on a 1080p screen.

    The banner grows with the window; the instruction lines (the date, the strap, the mail)
    never drop below 24 px, the headline never below 36 px (48 px and more at 1080 lines).
    """

    headline: int
    target: int
    lines: int
    button: int

    @classmethod
    def for_height(cls, height: int) -> BannerScale:
        def scaled(share: float, least: int, most: int) -> int:
            return max(least, min(most, round(height * share)))

        return cls(
            headline=scaled(0.045, 36, 72),  # 49 px at 1080
            target=scaled(0.032, 28, 52),  # 35 px at 1080
            lines=scaled(0.024, 24, 38),  # 26 px at 1080
            button=scaled(0.019, 18, 28),
        )

    def reserved_height(self, *, lines: int = 3, button: bool = True) -> int:
        """One height for every answer (so the list below never jumps): margins, a headline
        of two lines, the target, three instruction lines and the recovery button."""
        lead = 1.3  # line height for a font's pixel size
        words = 2 * self.headline + self.target + lines * self.lines + 1.8 * self.button * button
        return round(words * lead) + 40 + 4 * 6


def _style_sheet(looks: tuple[BannerStyle, ...], scale: BannerScale) -> str:
    """Colours by look, fonts in pixels by scale: the application's own sheet sets every
    widget's font, so only a sheet (not setFont) can make these larger."""
    rules = [
        f'QFrame#routingBanner[look="{look.key}"] {{ background: {look.background}; }}\n'
        f'QFrame#routingBanner[look="{look.key}"] QLabel {{ color: {look.foreground}; }}'
        for look in looks
    ]
    return "\n".join(
        [
            "QFrame#routingBanner { border-radius: 10px; }",
            "QFrame#routingBanner QLabel { background: transparent; }",
            *rules,
            f"QLabel#bannerHeadline {{ font-size: {scale.headline}px; font-weight: 800; }}",
            f"QLabel#bannerTarget {{ font-size: {scale.target}px; font-weight: 700; }}",
            f"QLabel#bannerInstructions {{ font-size: {scale.lines}px; }}",
            "QPushButton#bannerRecoveryButton "
            f"{{ font-size: {scale.button}px; padding: 6px 14px; }}",
        ]
    )


class RoutingBanner(QFrame):
    """Shows one result: icon, headline, destination or patron, and the instructions."""

    recoveryRequested = Signal()  # staff asked for barcode recovery from a not-found answer
    OFFERS_RECOVERY = True  # room is kept for the recovery button under the words
    RESERVED_LINES = 3  # instruction lines every answer has room for

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("routingBanner")
        self.setAccessibleName("Check-in result")
        self.result: CheckInResult | None = None
        self.scale: BannerScale | None = None
        self._watched: QWidget | None = None  # the window whose height sets the fonts
        self.look = IDLE
        self._pixmaps: dict[str, QPixmap] = {}

        self.icon = QLabel(self)
        self.icon.setObjectName("bannerIcon")
        self.icon.setFixedSize(ICON_SIZE, ICON_SIZE)
        self.headline = QLabel(self)
        self.headline.setObjectName("bannerHeadline")
        self.headline.setWordWrap(True)
        self.target = QLabel(self)
        self.target.setObjectName("bannerTarget")
        self.target.setWordWrap(True)
        self.lines = QLabel(self)
        self.lines.setObjectName("bannerInstructions")
        self.lines.setWordWrap(True)
        self.lines.setTextFormat(Qt.TextFormat.PlainText)
        self.recovery_button = QPushButton("Barcode recovery…", self)
        self.recovery_button.setObjectName("bannerRecoveryButton")
        self.recovery_button.setToolTip("Find the strap barcode by patron ID or by title")
        self.recovery_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps it
        self.recovery_button.clicked.connect(self.recoveryRequested)

        words = QVBoxLayout()
        words.setSpacing(6)
        words.addWidget(self.headline)
        words.addWidget(self.target)
        words.addWidget(self.lines)
        words.addWidget(self.recovery_button, 0, Qt.AlignmentFlag.AlignLeft)
        words.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 20, 24, 20)
        row.setSpacing(24)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(words, 1)
        self._restyle(IDLE)
        self.rescale(BannerScale.for_height(800))
        self.show_idle()

    # -- size: the fonts follow the window's height ---------------------------------------

    def rescale(self, scale: BannerScale) -> None:
        """Set the fonts in pixels (a point size is small on a big screen at 96 dpi); parsed
        again only when the window's size class changes, never per scan."""
        if scale == self.scale:
            return
        self.scale = scale
        self.setStyleSheet(_style_sheet(LOOKS, scale))
        self.setMinimumHeight(
            scale.reserved_height(lines=self.RESERVED_LINES, button=self.OFFERS_RECOVERY)
        )
        self.updateGeometry()

    def showEvent(self, event: QShowEvent) -> None:
        window = self.window()
        if window is not self._watched:
            if self._watched is not None:
                self._watched.removeEventFilter(self)
            self._watched = window
            window.installEventFilter(self)
        self.rescale(BannerScale.for_height(window.height()))
        super().showEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # getattr: a window outliving a banner being torn down may still call this filter.
        window: QWidget | None = getattr(self, "_watched", None)
        if window is not None and watched is window and event.type() == QEvent.Type.Resize:
            self.rescale(BannerScale.for_height(window.height()))
        return False

    def show_idle(self, text: str = "Scan the barcode at the TOP of the strap") -> None:
        self.result = None
        self._paint(IDLE, text, "", ())

    def show_result(self, result: CheckInResult) -> None:
        self.result = result
        target = ""
        if result.patron_name and result.patron_name in result.headline:
            target = f"Campus ID {result.patron_id}"
        elif result.patron_name:
            target = f"{result.patron_name}  ·  {result.patron_id}"
        elif result.destination and result.tone is not Tone.PROBLEM:
            target = f"→ {result.destination_name or result.destination}"
        elif result.barcode:  # a problem: say what was scanned, so staff can compare
            target = f"Scanned: {result.barcode}"
        self._paint(style_for(result), result.headline, target, result.instructions)
        self.recovery_button.setVisible(result.outcome is Outcome.NOT_FOUND)

    def show_problem(self, headline: str, lines: tuple[str, ...]) -> None:
        """A failure outside the routing (database unreachable): still big, still red."""
        self.result = None
        self._paint(REFUSED, headline, "", lines)

    def _restyle(self, look: BannerStyle) -> None:
        """Switch colours and icon by the `look` property the one style sheet selects on:
        nothing is parsed or rendered again per scan, only when the look changes."""
        self.look = look
        self.setProperty("look", look.key)
        for widget in (self, self.headline, self.target, self.lines, self.recovery_button):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        pixmap = self._pixmaps.get(look.icon)
        if pixmap is None:
            pixmap = resource_icon(look.icon).pixmap(ICON_SIZE, ICON_SIZE)
            self._pixmaps[look.icon] = pixmap
        self.icon.setPixmap(pixmap)

    def _paint(self, look: BannerStyle, headline: str, target: str, lines: tuple[str, ...]) -> None:
        if look is not self.look:
            self._restyle(look)
        self.recovery_button.setVisible(False)
        self.icon.setAccessibleName(look.label)
        self.headline.setText(headline)
        self.target.setText(target)
        self.target.setVisible(bool(target))
        self.lines.setText("\n".join(lines))
        self.lines.setVisible(bool(lines))
        self.setAccessibleDescription(" ".join((look.label + ".", headline, target, *lines)))
        self.update()  # one paint per answer, even one worded like the last (bench/gui_bench)
