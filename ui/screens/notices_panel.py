"""The notice outbox: every notice with its status and problem, preview, edit, send, retry.

Embedded in the ILL Office screen. A held manual notice (a cancellation, lost-item charges)
is previewed here, its wording tailored, then sent. Sending talks to the mail server, so it
runs on a worker thread; the panel shows the answer when it comes and never blocks the desk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.library.errors import ServiceError
from app.library.vocabulary import NoticeStatus
from app.notices import daily_run
from app.notices.daily_run import NoticeView, OutboxRun
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, button

HEADERS = ("No.", "Created", "Status", "Kind", "To", "Patron / library", "Tries", "Problem")


class OutboxWorker(QThread):
    """Runs one outbox action off the GUI thread and hands back its value or refusal."""

    outcome = Signal(object)  # an OutboxRun, or the ServiceError that refused the action

    def __init__(self, action: Callable[[], OutboxRun], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._action = action

    def run(self) -> None:
        result: Any
        try:
            result = self._action()
        except ServiceError as exc:
            result = exc
        except Exception as exc:  # the desk must hear about any failure, not lose it
            result = ServiceError(f"Sending stopped: {exc}. The outbox keeps every notice.")
        self.outcome.emit(result)


class NoticesPanel(QWidget):
    """Outbox list with status and errors; preview and edit before sending."""

    run_finished = Signal(object)  # the OutboxRun (or refusal) of the last run or send

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticesPanel")
        self.session = session
        self.notices: dict[str, NoticeView] = {}
        self.worker: OutboxWorker | None = None

        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("noticeStatusFilter")
        self.status_filter.addItem("All notices", None)
        for status in (
            NoticeStatus.HELD,
            NoticeStatus.FAILED,
            NoticeStatus.QUEUED,
            NoticeStatus.SENT,
        ):
            self.status_filter.addItem(status.value.capitalize(), status)
        self.status_filter.currentIndexChanged.connect(self.refresh)
        self.refresh_button = button(self, "Refresh", "refreshNoticesButton", self.refresh)
        self.run_button = button(
            self, "Run daily notices and send", "runNoticesButton", self.run_daily
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("Show", self))
        top.addWidget(self.status_filter)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.run_button)

        self.table = KeyedTable("noticesTable", HEADERS, self)
        self.table.itemSelectionChanged.connect(self._selected)

        editor = QGroupBox("Preview and edit before sending", self)
        form = QFormLayout(editor)
        self.state_label = QLabel(editor)
        self.state_label.setObjectName("noticeStateLabel")
        self.state_label.setWordWrap(True)
        self.recipient_edit = QLineEdit(editor)
        self.recipient_edit.setObjectName("noticeRecipientEdit")
        self.subject_edit = QLineEdit(editor)
        self.subject_edit.setObjectName("noticeSubjectEdit")
        self.body_edit = QPlainTextEdit(editor)
        self.body_edit.setObjectName("noticeBodyEdit")
        self.save_button = button(self, "Save changes", "saveNoticeButton", self._save_clicked)
        self.send_button = button(self, "Send now", "sendNoticeButton", self.send_now)
        self.release_button = button(
            self, "Release for the next run", "releaseNoticeButton", self.release
        )
        buttons = QHBoxLayout()
        for each in (self.save_button, self.send_button, self.release_button):
            buttons.addWidget(each)
        form.addRow("", self.state_label)
        form.addRow("To", self.recipient_edit)
        form.addRow("Subject", self.subject_edit)
        form.addRow("Message", self.body_edit)
        form.addRow("", self._row(buttons))

        split = QSplitter(self)
        split.setObjectName("noticesSplitter")
        split.addWidget(self.table)
        split.addWidget(editor)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.feedback = Feedback("noticesMessage", self)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.feedback)
        self.refresh()

    def _row(self, layout: QHBoxLayout) -> QWidget:
        holder = QWidget(self)
        layout.setContentsMargins(0, 0, 0, 0)
        holder.setLayout(layout)
        return holder

    def activate(self) -> None:
        self.refresh()

    # ---------------------------------------------------------------- list

    def refresh(self) -> None:
        status = self.status_filter.currentData()
        found = attempt(
            self.feedback,
            lambda: daily_run.list_notices(self.session.rt, self.session.actor, status),
        )
        if found is None:
            return
        self.notices = {str(n.id): n for n in found}
        self.table.fill([(str(n.id), _cells(n)) for n in found])
        due = attempt(
            self.feedback, lambda: daily_run.daily_run_due(self.session.rt, self.session.actor)
        )
        self.run_button.setText(
            "Run today's notices and send (not run yet today)"
            if due
            else "Run daily notices and send"
        )
        self._selected()

    def selected(self) -> NoticeView | None:
        key = self.table.current_key()
        return self.notices.get(key) if key else None

    def select_notice(self, notice_id: int) -> bool:
        return self.table.select_key(str(notice_id))

    def _selected(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            notice_id = chosen.id
            shown = attempt(
                self.feedback,
                lambda: daily_run.get_notice(self.session.rt, self.session.actor, notice_id),
            )
            chosen = shown or chosen
        editable = chosen is not None and chosen.editable
        for widget in (self.recipient_edit, self.subject_edit, self.body_edit):
            widget.setEnabled(editable)
        for each in (self.save_button, self.send_button, self.release_button):
            each.setEnabled(editable and self.worker is None)
        if chosen is None:
            self.state_label.setText("Choose a notice to see it as it will be sent.")
            for edit in (self.recipient_edit, self.subject_edit):
                edit.clear()
            self.body_edit.clear()
            return
        self.state_label.setText(_state_text(chosen))
        self.recipient_edit.setText(chosen.recipient)
        self.subject_edit.setText(chosen.subject)
        self.body_edit.setPlainText(chosen.body)

    # ---------------------------------------------------------------- actions

    def _save_clicked(self) -> None:
        self.save()

    def save(self) -> bool:
        chosen = self.selected()
        if chosen is None:
            return False
        saved = attempt(
            self.feedback,
            lambda: daily_run.edit_notice(
                self.session.rt,
                self.session.actor,
                chosen.id,
                recipient=self.recipient_edit.text(),
                subject=self.subject_edit.text(),
                body=self.body_edit.toPlainText(),
            ),
        )
        if saved is None:
            return False
        self.refresh()
        self.select_notice(saved.id)
        self.feedback.good(f"Notice {saved.id} saved as edited.")
        return True

    def release(self) -> None:
        chosen = self.selected()
        if chosen is None or not self._save_if_changed(chosen):
            return
        released = attempt(
            self.feedback,
            lambda: daily_run.release_notice(self.session.rt, self.session.actor, chosen.id),
        )
        if released is None:
            return
        self.refresh()
        self.select_notice(released.id)
        self.feedback.good(f"Notice {released.id} will go with the next run.")

    def send_now(self) -> None:
        chosen = self.selected()
        if chosen is None or not self._save_if_changed(chosen):
            return
        rt, actor, settings = self.session.rt, self.session.actor, self.session.settings
        self._start(lambda: daily_run.send_one(rt, actor, chosen.id, settings))

    def run_daily(self) -> None:
        rt, actor, settings = self.session.rt, self.session.actor, self.session.settings
        self._start(lambda: daily_run.run_daily(rt, actor, settings))

    def _save_if_changed(self, chosen: NoticeView) -> bool:
        current = attempt(
            self.feedback,
            lambda: daily_run.get_notice(self.session.rt, self.session.actor, chosen.id),
        )
        if current is None:
            return False
        changed = (
            self.recipient_edit.text().strip() != current.recipient.strip()
            or self.subject_edit.text() != current.subject
            or self.body_edit.toPlainText() != current.body
        )
        return self.save() if changed else True

    def _start(self, action: Callable[[], OutboxRun]) -> None:
        if self.worker is not None:
            self.feedback.problem("The outbox is already being sent; wait for it to finish.")
            return
        self.worker = OutboxWorker(action, self)
        self.worker.outcome.connect(self._finished)
        self.worker.finished.connect(self._worker_done)
        self.run_button.setEnabled(False)
        self.send_button.setEnabled(False)
        self.feedback.good("Sending… the desk stays usable meanwhile.")
        self.worker.start()

    def _finished(self, result: object) -> None:
        if isinstance(result, ServiceError):
            self.feedback.problem(result.message)
        elif isinstance(result, OutboxRun):
            if result.mail_problem or result.failed or result.uncertain:
                self.feedback.problem(result.message)
            else:
                self.feedback.good(result.message)
        self.run_finished.emit(result)

    def _worker_done(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.deleteLater()
        self.run_button.setEnabled(True)
        self.refresh()

    def closeEvent(self, event: Any) -> None:
        if self.worker is not None:
            self.worker.wait()
        super().closeEvent(event)


def _cells(n: NoticeView) -> tuple[str, ...]:
    who = f"{n.patron_name} ({n.patron_id})" if n.patron_id else n.partner_symbol
    status = "needs review" if n.needs_review else n.status.value
    return (
        str(n.id),
        n.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        status,
        n.label,
        n.recipient,
        who,
        str(n.attempts),
        n.problem,
    )


def _state_text(n: NoticeView) -> str:
    if n.status is NoticeStatus.SENT and n.sent_at is not None:
        return f"Sent {n.sent_at.astimezone():%Y-%m-%d %H:%M}; it can no longer be changed."
    if n.needs_review:
        return "Manual notice: check the wording, edit it if needed, then Send now."
    if n.status is NoticeStatus.HELD:
        return f"Held: {n.held_reason}"
    if n.status is NoticeStatus.FAILED and n.next_attempt_at is not None:
        return (
            f"Failed ({n.last_error}). Next try {n.next_attempt_at.astimezone():%H:%M}, "
            "or Send now."
        )
    return "Queued: it goes with the next run, or Send now."
