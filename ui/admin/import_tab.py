"""Import patrons or ILL requests from a CSV file, with the import's progress and Stop.

The same import as `illdesk import patrons|requests`: rows go in a batch at a time, each batch
its own transaction, so desks keep scanning meanwhile. A big file takes minutes, so it runs on
a runner of its own (never holding up this desk's scans) and shows rows done of the total,
the rate and the time left. Stop ends it after the batch in hand: the rows imported so far
stay, and importing the same file again finishes it (rows already in come out unchanged).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.csv_import import PATRON_COLUMNS, REQUEST_COLUMNS, ImportReport, read_csv
from app.borrowing.patron_import import import_patrons
from app.borrowing.request_import import import_requests
from app.library.errors import InvalidInput, ServiceError
from app.library.progress import JobWatch
from ui.desk_session import DeskSession
from ui.operations import Operations
from ui.widgets.job_progress import JobProgress
from ui.widgets.panel_parts import Feedback, KeyedTable, button, row

KINDS = {
    "patrons": ("Patrons", PATRON_COLUMNS),
    "requests": ("ILL requests", REQUEST_COLUMNS),
}


class ImportTab(QWidget):
    """Choose what and which file, Import; progress and Stop while it runs; then the summary
    and the rows that were refused."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importTab")
        self.session = session
        self.ops = Operations(self, name="import")  # a long import never holds up the scans
        self.what = QComboBox(self)
        self.what.setObjectName("importWhatInput")
        for key, (label, _columns) in KINDS.items():
            self.what.addItem(label, key)
        self.what.currentIndexChanged.connect(lambda _index: self._show_columns())
        self.file_input = QLineEdit(self)
        self.file_input.setObjectName("importFileInput")
        self.file_input.setPlaceholderText("the CSV file (UTF-8), first line the column names")
        choose = button(self, "Choose file…", "importChooseButton", self._choose)
        self.columns = QLabel(self)
        self.columns.setObjectName("importColumns")
        self.columns.setWordWrap(True)
        self.strict = QCheckBox("Check every row first, and import nothing if any row is bad", self)
        self.strict.setObjectName("importStrictInput")
        self.start_button = button(self, "Import", "importStartButton", self.start)
        self.start_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        form = QFormLayout()
        form.addRow("Import:", self.what)
        form.addRow("File:", row(self, self.file_input, choose))
        form.addRow("Columns:", self.columns)
        form.addRow("", self.strict)
        form.addRow("", self.start_button)
        self.progress = JobProgress(
            "importProgress", self, starting="Reading and checking the file…"
        )
        self.feedback = Feedback("importMessage", self)
        self.errors = KeyedTable("importErrorsTable", ("Line", "Why the row was not imported"))
        self.errors.setParent(self)
        self.errors.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.feedback)
        layout.addWidget(self.errors, 1)
        layout.addStretch(0)
        self._show_columns()

    def _show_columns(self) -> None:
        _label, columns = KINDS[str(self.what.currentData())]
        self.columns.setText(", ".join(columns))

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the CSV file to import", self.file_input.text(), "CSV files (*.csv)"
        )
        if path:
            self.file_input.setText(path)

    def start(self) -> None:
        if self.progress.running:
            self.feedback.problem("An import is running; wait for it, or Stop it first.")
            return
        text = self.file_input.text().strip()
        if not text:
            self.feedback.problem("Choose the CSV file to import first.")
            return
        what, strict = str(self.what.currentData()), self.strict.isChecked()
        path = Path(text).expanduser()
        rt, actor = self.session.rt, self.session.actor
        run = import_patrons if what == "patrons" else import_requests

        def work(watch: JobWatch) -> ImportReport:
            if not path.is_file():
                raise InvalidInput(f"There is no file {path}. Choose the CSV file again.")
            return run(
                rt,
                actor,
                read_csv(path),
                strict=strict,
                progress=watch.progress,
                keep_going=watch.keep_going,
            )

        label = KINDS[what][0].lower()
        job = self.progress.run(
            self.ops, f"Importing {label}", work, lambda r: self._done(label, r), self._refused
        )
        if job is not None:
            self.start_button.setEnabled(False)
            self.errors.hide()
            self.feedback.good(
                f"Importing {label} from {path.name}: desks keep working meanwhile. Stop ends "
                "it after the batch in hand; the rows imported by then stay."
            )

    def _refused(self, error: ServiceError) -> None:
        self.start_button.setEnabled(True)
        self.progress.hide()
        self.feedback.problem(error.message)

    def _done(self, label: str, report: ImportReport) -> None:
        self.start_button.setEnabled(True)
        counts = (
            f"{report.inserted:,} new, {report.updated:,} updated, {report.unchanged:,} "
            f"unchanged, {len(report.errors):,} bad rows skipped"
        )
        if report.stopped:
            last = self.progress.last
            if last is not None:
                self.progress.say(f"Stopped after {last.done:,} of {last.total:,} rows.")
            self.feedback.good(
                f"Stopped: the {label} imported so far are saved ({counts}). To finish, "
                "import the same file again: the rows already in come out unchanged and the "
                "import carries on with the rest."
            )
        elif not report.committed:
            self.progress.say("Nothing imported.")
            self.feedback.problem(
                f"Nothing imported: {len(report.errors):,} bad rows, and every row must be "
                "good when 'Check every row first' is ticked. Fix the rows listed, then "
                "import again."
            )
        else:
            self.progress.say_end("done")
            (self.feedback.problem if report.errors else self.feedback.good)(
                f"Imported {label}: {counts}."
            )
        self._show_errors(report)

    def _show_errors(self, report: ImportReport) -> None:
        self.errors.fill([(str(e.line), (str(e.line), e.message)) for e in report.errors])
        self.errors.setVisible(bool(report.errors))
