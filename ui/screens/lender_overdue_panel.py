"""Overdue from borrower: our items other libraries keep too long, and the messages to them.

Reviewing prepares each message once; staff edit the text, then e-mail it to the partner
library (its address from the partner directory; sent on a thread of its own, so a slow
mail server never holds up the desk), or copy it into the ILL system and mark it sent.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.lending import overdue_at_borrowers
from app.lending.overdue_at_borrowers import (
    BorrowerOverdue,
    MessageEmailed,
    OverdueReview,
    PreparedMessage,
)
from app.library.errors import ServiceError
from ui.desk_session import DeskSession
from ui.operations import Operations
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt


class LenderOverduePanel(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lenderOverduePanel")
        self.session = session
        self.entries: dict[str, BorrowerOverdue] = {}
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.review_button = QPushButton("Review and prepare messages", self)
        self.review_button.setObjectName("reviewOverdueButton")
        self.summary = QLabel(self)
        self.summary.setObjectName("overdueSummary")
        top.addWidget(self.review_button)
        top.addWidget(self.summary, 1)
        layout.addLayout(top)
        self.table = KeyedTable(
            "overdueTable",
            ("Request", "Stage", "Days overdue", "Borrower", "Their #", "Title"),
            self,
            empty=(
                "No item we lent is overdue enough for a message: borrowing libraries get "
                "one once an item is past the overdue or lost days in Library settings."
            ),
        )
        layout.addWidget(self.table, 1)

        self.message_combo = QComboBox(self)
        self.message_combo.setObjectName("overdueMessageCombo")
        layout.addWidget(self.message_combo)
        self.recipient_label = QLabel(self)
        self.recipient_label.setObjectName("overdueMessageRecipient")
        self.recipient_label.setWordWrap(True)
        layout.addWidget(self.recipient_label)
        self.subject_input = QLineEdit(self)
        self.subject_input.setObjectName("overdueMessageSubject")
        layout.addWidget(self.subject_input)
        self.body_edit = QPlainTextEdit(self)
        self.body_edit.setObjectName("overdueMessageBody")
        layout.addWidget(self.body_edit, 1)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save wording", self)
        self.save_button.setObjectName("saveMessageButton")
        self.copy_button = QPushButton("Copy message", self)
        self.copy_button.setObjectName("copyMessageButton")
        self.sent_button = QPushButton("Mark sent", self)
        self.sent_button.setObjectName("markMessageSentButton")
        self.email_button = QPushButton("Send by e-mail", self)
        self.email_button.setObjectName("emailMessageButton")
        self.email_button.setToolTip(
            "E-mail it to the partner library's address in the partner directory; the "
            "outbox keeps the copy"
        )
        self.mail = Operations(self, name="partner mail")
        for button in (self.save_button, self.email_button, self.copy_button, self.sent_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.feedback = Feedback("overdueFeedback", self)
        layout.addWidget(self.feedback)

        self.review_button.clicked.connect(self.review)
        self.table.itemSelectionChanged.connect(self._show_messages)
        self.message_combo.currentIndexChanged.connect(self._show_message)
        self.save_button.clicked.connect(self._save)
        self.copy_button.clicked.connect(self._copy)
        self.sent_button.clicked.connect(self._mark_sent)
        self.email_button.clicked.connect(self._email)
        self.review()

    def review(self) -> None:
        s = self.session
        attempt(
            s.ops,
            self.feedback,
            lambda: overdue_at_borrowers.review_overdue(s.rt, s.actor),
            self._render,
        )

    def _render(self, review: OverdueReview) -> None:
        self.entries = {e.request.request_number: e for e in review.entries}
        self.summary.setText(
            f"As of {review.as_of}: {len(review.entries)} overdue from borrowers "
            f"(overdue at {review.overdue_days} days, lost at {review.lost_days}); "
            f"{len(review.prepared_now)} new message(s) prepared."
        )
        self.table.fill(
            [
                (
                    e.request.request_number,
                    (
                        e.request.request_number,
                        "LOST, billable" if e.stage.value == "lost_billable" else "overdue",
                        str(e.days_overdue),
                        e.request.borrower_symbol,
                        e.request.partner_request_number,
                        e.request.title,
                    ),
                )
                for e in review.entries
            ]
        )
        if self.table.currentRow() < 0 and self.table.rowCount():
            self.table.selectRow(0)
        self._show_messages()

    def _messages(self) -> tuple[PreparedMessage, ...]:
        key = self.table.current_key()
        entry = self.entries.get(key) if key else None
        return entry.messages if entry else ()

    def _show_messages(self) -> None:
        self.message_combo.blockSignals(True)
        self.message_combo.clear()
        for message in self._messages():
            label = {
                overdue_at_borrowers.LOST_KIND: "Lost",
                overdue_at_borrowers.IFM_KIND: "IFM note",
            }.get(message.kind, "Overdue")
            self.message_combo.addItem(f"{label} ({message.status.value})", message.notice_id)
        if self.message_combo.count():
            self.message_combo.setCurrentIndex(self.message_combo.count() - 1)
        self.message_combo.blockSignals(False)
        self._show_message()

    def _current(self) -> PreparedMessage | None:
        notice_id = self.message_combo.currentData()
        return next((m for m in self._messages() if m.notice_id == notice_id), None)

    def _show_message(self) -> None:
        message = self._current()
        self.subject_input.setText(message.subject if message else "")
        self.body_edit.setPlainText(message.body if message else "")
        editable = message is not None and message.sent_at is None
        for widget in (self.subject_input, self.save_button, self.sent_button, self.email_button):
            widget.setEnabled(editable)
        if message is None:
            self.recipient_label.clear()
        else:
            to = message.recipient or "no e-mail address in the partner directory"
            note = f" {message.problem}" if message.problem and editable else ""
            self.recipient_label.setText(f"To {message.partner_symbol}: {to}.{note}")
        self.body_edit.setReadOnly(not editable)

    def _save(self) -> None:
        message = self._current()
        if message is None:
            self.feedback.problem("Select an overdue request with a message first.")
            return
        s, key = self.session, self.table.current_key()
        subject, body = self.subject_input.text(), self.body_edit.toPlainText()

        def saved(stored: PreparedMessage) -> None:
            self.feedback.good("Wording saved.")
            self._replace(key, stored)

        attempt(
            s.ops,
            self.feedback,
            lambda: overdue_at_borrowers.edit_message(
                s.rt, s.actor, message.notice_id, subject=subject, body=body
            ),
            saved,
        )

    def _copy(self) -> None:
        text = f"{self.subject_input.text()}\n\n{self.body_edit.toPlainText()}".strip()
        if not text:
            self.feedback.problem("There is no message to copy.")
            return
        QGuiApplication.clipboard().setText(text)
        self.feedback.good("Message copied: paste it into the ILL system's e-mail.")

    def _mark_sent(self) -> None:
        message = self._current()
        if message is None:
            self.feedback.problem("Select an overdue request with a message first.")
            return
        s, key = self.session, self.table.current_key()

        def sent(stored: PreparedMessage) -> None:
            self.feedback.good("Marked sent.")
            self._replace(key, stored)

        attempt(
            s.ops,
            self.feedback,
            lambda: overdue_at_borrowers.mark_message_sent(s.rt, s.actor, message.notice_id),
            sent,
        )

    def _email(self) -> None:
        message = self._current()
        if message is None:
            self.feedback.problem("Select an overdue request with a message first.")
            return
        s, key = self.session, self.table.current_key()
        rt, actor, settings, notice_id = s.rt, s.actor, s.settings, message.notice_id

        def finished(result: Any) -> None:
            self.email_button.setEnabled(True)
            if isinstance(result, ServiceError):
                self.feedback.refused(result)
                return
            assert isinstance(result, MessageEmailed)
            if result.sent:
                self.feedback.good(f"Sent by e-mail to {result.message.recipient}.")
            else:
                self.feedback.problem(
                    f"Not sent: it stays in the outbox ({result.message.status.value}) and is "
                    f"tried again. {result.mail_problem}"
                )
            self._replace(key, result.message)

        job = self.mail.run(
            lambda: overdue_at_borrowers.send_message(rt, actor, notice_id, settings),
            on_done=finished,
            on_error=finished,
            name="e-mail to a partner library",
            owner=self,
        )
        if job is not None:
            self.email_button.setEnabled(False)
            self.feedback.good("Sending… the desk stays usable meanwhile.")

    def closeEvent(self, event: Any) -> None:
        self.mail.wait()  # a send in flight finishes: a mail is never half sent
        super().closeEvent(event)

    def _replace(self, key: str | None, message: PreparedMessage) -> None:
        """Show the stored message without another review (which would write again)."""
        entry = self.entries.get(key) if key else None
        if entry is None:
            return
        messages = tuple(message if m.notice_id == message.notice_id else m for m in entry.messages)
        self.entries[entry.request.request_number] = BorrowerOverdue(
            entry.request, entry.days_overdue, entry.stage, messages
        )
        if self.table.current_key() != key:
            return  # another request is on show now; this one's list is up to date
        index = self.message_combo.currentIndex()
        self._show_messages()
        self.message_combo.setCurrentIndex(index)
