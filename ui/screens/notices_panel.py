"""The notice outbox: every notice with its status and problem, preview, edit, send, retry.

Embedded in the ILL Office screen. A held manual notice (a cancellation, lost-item charges)
is previewed here, its wording tailored, then sent. Reading and saving run on the desk's
operations runner; sending talks to the mail server, which can be slow, so it runs on an
outbox runner of its own and never holds up the desk's other work. The panel shows each
answer when it comes and never blocks the desk; the daily run shows its progress (reminders
queued of the loans due, rate, time left) and stops between batches on Stop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
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
from app.notices import daily_run, outbox_review
from app.notices.daily_run import OutboxRun
from app.notices.mailer import mail_server_problem
from app.notices.outbox_review import NoticeView
from ui.desk_session import DeskSession
from ui.operations import Job, Operations
from ui.widgets.job_progress import JobProgress
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, button

HEADERS = ("No.", "Created", "Status", "Kind", "To", "Patron / library", "Tries", "Problem")


class NoticesPanel(QWidget):
    """Outbox list with status and errors; preview and edit before sending."""

    run_finished = Signal(object)  # the OutboxRun (or refusal) of the last run or send

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticesPanel")
        self.session = session
        self.ops = session.ops
        self.notices: dict[str, NoticeView] = {}
        self.outbox = Operations(self, name="outbox")
        self.worker: Job[OutboxRun] | None = None  # the send in flight

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
        self.status_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.refresh_button = button(
            self, "Refresh", "refreshNoticesButton", lambda: self.refresh()
        )
        self.run_button = button(
            self, "Run daily notices and send", "runNoticesButton", self.run_daily
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("Show", self))
        top.addWidget(self.status_filter)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.run_button)

        self.table = KeyedTable(
            "noticesTable",
            HEADERS,
            self,
            empty=(
                "No notice with this status. Choose another in Show, or run the daily notices: "
                "due-soon and overdue notices are queued then."
            ),
        )
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
        self.progress = JobProgress("noticesRunProgress", self, unit="loans")
        self.mail_note = QLabel(self)
        self.mail_note.setObjectName("noticesMailServerNote")
        self.mail_note.setWordWrap(True)
        self.mail_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mail_note.setStyleSheet(
            "background: #fff3cd; color: #4a3b00; border: 1px solid #c9a227; padding: 8px;"
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.mail_note)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.feedback)
        self.show_mail_server()
        self.refresh()

    def _row(self, layout: QHBoxLayout) -> QWidget:
        holder = QWidget(self)
        layout.setContentsMargins(0, 0, 0, 0)
        holder.setLayout(layout)
        return holder

    def activate(self) -> None:
        self.show_mail_server()
        self.refresh()

    def show_mail_server(self) -> None:
        """Say at the top when this desk cannot e-mail, rather than only in the log."""
        problem = mail_server_problem(self.session.settings)
        self.mail_note.setText(
            ""
            if problem is None
            else f"Notices cannot be e-mailed from this desk. {problem} Ask IT to set it up "
            "(Workstation settings in the manual); until then notices wait here, and a desk "
            "that has a mail server can send them."
        )
        self.mail_note.setVisible(problem is not None)

    # ---------------------------------------------------------------- list

    def refresh(self, then: Callable[[], object] | None = None) -> None:
        """Reload the list (and whether today's run is due); `then` runs once it is shown."""
        rt, actor, status = self.session.rt, self.session.actor, self.status_filter.currentData()
        attempt(
            self.ops,
            self.feedback,
            lambda: (
                outbox_review.list_notices(rt, actor, status),
                daily_run.daily_run_due(rt, actor),
            ),
            lambda answer: self._show_list(*answer, then),
        )

    def _show_list(
        self, found: Sequence[NoticeView], due: bool, then: Callable[[], object] | None
    ) -> None:
        self.notices = {str(n.id): n for n in found}
        self.table.fill([(str(n.id), _cells(n)) for n in found])
        self.run_button.setText(
            "Run today's notices and send (not run yet today)"
            if due
            else "Run daily notices and send"
        )
        self._selected()
        if then is not None:
            then()

    def selected(self) -> NoticeView | None:
        key = self.table.current_key()
        return self.notices.get(key) if key else None

    def select_notice(self, notice_id: int) -> bool:
        return self.table.select_key(str(notice_id))

    def _selected(self) -> None:
        chosen = self.selected()
        self._show_notice(chosen)
        if chosen is not None:  # the list's copy at once, then the notice as it stands now
            rt, actor, notice_id = self.session.rt, self.session.actor, chosen.id
            attempt(
                self.ops,
                self.feedback,
                lambda: outbox_review.get_notice(rt, actor, notice_id),
                lambda shown: (
                    self._show_notice(shown)
                    if (now := self.selected()) is not None and now.id == shown.id
                    else None
                ),
            )

    def _show_notice(self, chosen: NoticeView | None) -> None:
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

    def save(self, then: Callable[[], object] | None = None) -> None:
        """Save the editor's wording; `then` runs once it is saved (not when refused)."""
        chosen = self.selected()
        if chosen is None:
            return
        rt, actor = self.session.rt, self.session.actor
        recipient, subject = self.recipient_edit.text(), self.subject_edit.text()
        body = self.body_edit.toPlainText()

        def saved(view: NoticeView) -> None:
            def shown() -> None:
                self.select_notice(view.id)
                self.feedback.good(f"Notice {view.id} saved as edited.")
                if then is not None:
                    then()

            self.refresh(shown)

        attempt(
            self.ops,
            self.feedback,
            lambda: outbox_review.edit_notice(
                rt, actor, chosen.id, recipient=recipient, subject=subject, body=body
            ),
            saved,
        )

    def release(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        rt, actor = self.session.rt, self.session.actor

        def released(view: NoticeView) -> None:
            def shown() -> None:
                self.select_notice(view.id)
                self.feedback.good(f"Notice {view.id} will go with the next run.")

            self.refresh(shown)

        self._save_if_changed(
            chosen,
            lambda: attempt(
                self.ops,
                self.feedback,
                lambda: outbox_review.release_notice(rt, actor, chosen.id),
                released,
            ),
        )

    def send_now(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        rt, actor, settings = self.session.rt, self.session.actor, self.session.settings
        self._save_if_changed(
            chosen,
            lambda: self._start(lambda: outbox_review.send_one(rt, actor, chosen.id, settings)),
        )

    def run_daily(self) -> None:
        if self.worker is not None:
            self.feedback.problem("The outbox is already being sent; wait for it to finish.")
            return
        rt, actor, settings = self.session.rt, self.session.actor, self.session.settings
        self.worker = self.progress.run(
            self.outbox,
            "Daily notices",
            lambda watch: daily_run.run_daily(
                rt, actor, settings, watch.progress, watch.keep_going
            ),
            self._finished,
            self._finished,
        )
        self._started()

    def _save_if_changed(self, chosen: NoticeView, then: Callable[[], object]) -> None:
        """Save the editor first when staff changed the wording, then go on with `then`."""
        recipient, subject = self.recipient_edit.text(), self.subject_edit.text()
        body = self.body_edit.toPlainText()

        def compare(current: NoticeView) -> None:
            changed = (
                recipient.strip() != current.recipient.strip()
                or subject != current.subject
                or body != current.body
            )
            if changed:
                self.save(then)
            else:
                then()

        rt, actor = self.session.rt, self.session.actor
        attempt(
            self.ops, self.feedback, lambda: outbox_review.get_notice(rt, actor, chosen.id), compare
        )

    def _start(self, action: Callable[[], OutboxRun]) -> None:
        if self.worker is not None:
            self.feedback.problem("The outbox is already being sent; wait for it to finish.")
            return
        self.worker = self.outbox.run(
            action, on_done=self._finished, on_error=self._finished, name="sending notices"
        )
        self._started()

    def _started(self) -> None:
        if self.worker is None:
            return
        self.run_button.setEnabled(False)
        self.send_button.setEnabled(False)
        self.feedback.good("Sending… the desk stays usable meanwhile.")

    def _finished(self, result: object) -> None:
        if isinstance(result, ServiceError):
            message = result.message
            if result.code == "unexpected":  # the desk must hear about it, not lose it
                message = "Sending stopped unexpectedly. The outbox keeps every notice."
            self.feedback.problem(message)
        elif isinstance(result, OutboxRun):
            if result.stopped:
                self.progress.say_end("stopped")
                self.feedback.problem(
                    f"{result.message} What was queued or sent stays; Run daily notices and "
                    "send carries on, and never queues or sends a notice twice."
                )
            elif result.mail_problem or result.failed or result.uncertain:
                self.feedback.problem(result.message)
            else:
                self.feedback.good(result.message)
            if not result.stopped:
                self.progress.say_end("done")
        self.run_finished.emit(result)
        self.worker = None
        self.run_button.setEnabled(True)
        self.refresh()

    def closeEvent(self, event: Any) -> None:
        self.progress.stop()  # a long run ends after its batch
        self.outbox.wait()  # a send in flight finishes: a mail is never half sent
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
