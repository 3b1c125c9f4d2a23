"""The Sanitisation bench (R6): scan a device, pick or drop its erasure report, see the report
against the device field by field, record the certificate (a site lead validates unsigned
reports), then release the device for reuse or WEEE. Refused reports go to the review queue,
listed at the bottom; the device stays blocked.

Wiring: `SanitisationPanel(session)` is a `Panel` like the other counter screens; it reports
outcomes through `reported` and takes scans through `accept_scan`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QGridLayout,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from app.domain.sanitisation import Assessment, Verdict
from app.services import sanitisation
from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.panel import Panel, buddy_label, named
from app.ui.session import CounterSession

REPORT_FILTER = "Erasure reports (*.xml *.pdf *.json *.txt *.log);;All files (*)"
_SHOWN = {Verdict.MATCH: "✔ match", Verdict.MISMATCH: "✘ MISMATCH", Verdict.INFO: "–"}


class SanitisationPanel(Panel):
    report_checked = Signal(object)        # Assessment: the report against the device
    certificate_recorded = Signal(object)  # CertifyResult
    review_queued = Signal(object)         # CertificateRefused
    device_released = Signal(object)       # Release

    title = "Sanitisation"
    hint = "scan a returned device, then pick or drop its erasure report"

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.tag: str | None = None
        self.report_path: Path | None = None
        self.assessment: Assessment | None = None
        self._build()
        self.setAcceptDrops(True)
        self.scan_field.returnPressed.connect(self._on_scan_entered)
        self.pick_button.clicked.connect(self._on_pick_clicked)
        self.certify_button.clicked.connect(self._on_certify_clicked)
        self.release_button.clicked.connect(self._on_release_clicked)
        self._update_buttons(None)

    # -- Qt overrides ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.check_report(Path(files[0]))

    # -- public API ------------------------------------------------------------------------

    @staticmethod
    def pick_report_file(parent: QWidget) -> Path | None:
        """Ask for a report file; tests replace this."""
        name, _ = QFileDialog.getOpenFileName(parent, "Erasure report", "", REPORT_FILTER)
        return Path(name) if name else None

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        self.show_device(text)

    def focus_entry(self) -> None:
        self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh(self) -> None:
        self._show_review_queue()
        if self.tag:
            self.show_device(self.tag, quiet=True)

    def show_device(self, text: str, quiet: bool = False) -> None:
        def load() -> Outcome:
            view = sanitisation.bench_view(self.session.ctx, text)
            self.tag, self.report_path, self.assessment = view.device.tag, None, None
            self._show_checks(None)
            self._describe(view)
            self._update_buttons(view)
            return Outcome(Tone.SCANNED, f"{view.device.tag}: {self.device_label.text()}")
        self.scan_field.clear()
        if not self.attempt(load) and not quiet:
            self._clear_device()

    def check_report(self, path: Path) -> None:
        """Read `path` and show it against the scanned device; nothing is recorded."""
        if not self.tag:
            self.report(Outcome(Tone.WAITING, "scan the device first, then pick its report"))
            return

        def check() -> Outcome:
            read = sanitisation.read_report_file(path)
            assessment = sanitisation.preview(self.session.ctx, self.tag, read.certificate)
            self.report_path, self.assessment = path, assessment
            self.report_label.setText(path.name)
            self._show_checks(assessment)
            self.report_checked.emit(assessment)
            if not assessment.accepted:
                return Outcome(Tone.WAITING, f"{path.name} does not release {self.tag}: "
                               + "; ".join(assessment.reasons))
            unsigned = "" if read.certificate.signed else (
                " It is unsigned: a site lead validates it with their PIN.")
            return Outcome(Tone.INFO, f"{path.name} matches {self.tag}: record it.{unsigned}")
        if not self.attempt(check):
            self.report_path, self.assessment = None, None
            self._show_checks(None)
        self._update_buttons(None)

    # -- slots -----------------------------------------------------------------------------

    def _on_scan_entered(self) -> None:
        if self.scan_field.text().strip():
            self.show_device(self.scan_field.text())

    def _on_pick_clicked(self) -> None:
        path = type(self).pick_report_file(self)
        if path is not None:
            self.check_report(path)

    def _on_certify_clicked(self) -> None:
        operator, path, tag = self.session.operator, self.report_path, self.tag
        if operator is None or path is None or tag is None:
            self.report(Outcome(Tone.WAITING, "sign in, scan a device and pick its report"))
            return
        validation = None
        if self.validator_field.text().strip():
            validation = sanitisation.Validation(self.validator_field.text().strip(),
                                                 self.validator_pin.text())
        self.validator_pin.clear()
        try:
            result = sanitisation.certify_report(self.session.ctx, operator, tag, path,
                                                 validation)
        except sanitisation.CertificateRefused as refused:
            self._show_checks(refused.assessment)
            self.report(outcome_for_error(refused))
            self.review_queued.emit(refused)
            self.refresh()
            return
        except Exception as exc:  # noqa: BLE001 - shown in the banner
            self.report(outcome_for_error(exc))
            return
        self._show_checks(result.assessment)
        report_id = result.record.certificate.certificate_id
        self.report(Outcome(Tone.SUCCESS, f"{tag} certified by {report_id}: it may now be "
                            "released"))
        self.certificate_recorded.emit(result)
        self.refresh()

    def _on_release_clicked(self) -> None:
        operator, tag = self.session.operator, self.tag
        if operator is None or tag is None:
            self.report(Outcome(Tone.WAITING, "sign in and scan the device to release"))
            return

        def release() -> Outcome:
            done = sanitisation.release(
                self.session.ctx, operator, tag, self.route_combo.currentData(),
                self.recipient_field.text(), transfer_note=self.transfer_note_field.text()
                .strip() or None)
            self.device_released.emit(done)
            return Outcome(Tone.SUCCESS, f"{done.tag} released for {done.route.value} to "
                           f"{done.recipient}, collection {done.collection}")
        if self.attempt(release):
            self.refresh()

    # -- private ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.scan_field = named(QLineEdit(self), "Device tag", "Scan or type the tag of the "
                                "returned device and press Enter", "sanitisationScanField")
        self.device_label = named(QLabel("No device scanned", self), "Device",
                                  "The scanned device, its state and recorded disks",
                                  "sanitisationDevice")
        self.report_label = named(QLabel("No report", self), "Report", "The report file picked",
                                  "reportFileLabel")
        self.pick_button = named(QPushButton("&Pick report…", self), "Pick report",
                                 "Choose the erasure report file (or drop it here)",
                                 "pickReportButton")
        self.table = named(QTableWidget(0, 4, self), "Report against device",
                           "Each field of the report against what the station knows",
                           "matchTable")
        self.table.setHorizontalHeaderLabels(["Field", "Report says", "Device", "Result"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.validator_field = named(QLineEdit(self), "Validated by", "A site lead's staff "
                                     "number, for unsigned reports", "validatorField")
        self.validator_pin = named(QLineEdit(self), "Validator PIN", "The site lead's PIN",
                                   "validatorPinField")
        self.validator_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.certify_button = named(QPushButton("&Record certificate", self),
                                    "Record certificate", "Record the report as this device's "
                                    "certificate", "certifyButton")
        self.route_combo = named(QComboBox(self), "Route", "Reuse or WEEE disposal", "routeCombo")
        self.route_combo.addItem("Reuse (schools, schemes)", "reuse")
        self.route_combo.addItem("WEEE disposal", "weee")
        self.recipient_field = named(QLineEdit(self), "Recipient", "Who receives the device",
                                     "recipientField")
        self.transfer_note_field = named(QLineEdit(self), "Waste transfer note", "WEEE: the "
                                         "waste transfer note number", "transferNoteField")
        self.release_button = named(QPushButton("R&elease", self), "Release",
                                    "Release the sanitised device", "releaseButton")
        self.review_list = named(QListWidget(self), "Review queue", "Reports refused and "
                                 "waiting for review", "reviewQueueList")
        self._lay_out()

    def _lay_out(self) -> None:
        grid = QGridLayout()
        grid.addWidget(buddy_label("Device &tag:", self.scan_field, self), 0, 0)
        grid.addWidget(self.scan_field, 0, 1)
        grid.addWidget(self.device_label, 0, 2, 1, 2)
        grid.addWidget(QLabel("Report:", self), 1, 0)
        grid.addWidget(self.report_label, 1, 1, 1, 2)
        grid.addWidget(self.pick_button, 1, 3)
        validate = QHBoxLayout()
        validate.addWidget(buddy_label("&Validated by:", self.validator_field, self))
        validate.addWidget(self.validator_field)
        validate.addWidget(buddy_label("PI&N:", self.validator_pin, self))
        validate.addWidget(self.validator_pin)
        validate.addWidget(self.certify_button)
        release = QHBoxLayout()
        release.addWidget(buddy_label("R&oute:", self.route_combo, self))
        release.addWidget(self.route_combo)
        release.addWidget(buddy_label("T&o:", self.recipient_field, self))
        release.addWidget(self.recipient_field, 1)
        release.addWidget(buddy_label("Transfer &note:", self.transfer_note_field, self))
        release.addWidget(self.transfer_note_field)
        release.addWidget(self.release_button)
        column = QVBoxLayout(self)
        column.addLayout(grid)
        column.addWidget(self.table, 1)
        column.addLayout(validate)
        column.addLayout(release)
        column.addWidget(buddy_label("Review &queue:", self.review_list, self))
        column.addWidget(self.review_list)

    def _describe(self, view: sanitisation.BenchView) -> None:
        d = view.device
        disks = ", ".join(view.known_disks) or "no disks recorded"
        where = (f"; released for {view.release.route.value} to {view.release.recipient}"
                 if view.release else "")
        self.device_label.setText(f"{d.serial} · {d.model} · {d.state.value} · {disks}{where}")
        self.report_label.setText("No report")

    def _show_checks(self, assessment: Assessment | None) -> None:
        checks = assessment.checks if assessment else ()
        self.table.setRowCount(len(checks))
        for row, check in enumerate(checks):
            result = _SHOWN[check.verdict] + (f" — {check.note}" if check.note else "")
            for column, text in enumerate((check.name, check.report, check.device, result)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)

    def _show_review_queue(self) -> None:
        self.review_list.clear()
        try:
            entries = sanitisation.review_queue(self.session.ctx)
        except Exception as exc:  # noqa: BLE001 - shown in the banner
            self.report(outcome_for_error(exc))
            return
        for entry in entries:
            self.review_list.addItem(f"{entry.tag} — {entry.filename}: "
                                     + "; ".join(entry.reasons))

    def _update_buttons(self, view: sanitisation.BenchView | None) -> None:
        self.certify_button.setEnabled(self.assessment is not None)
        if view is not None:
            self.release_button.setEnabled(view.certificate is not None and view.release is None)

    def _clear_device(self) -> None:
        self.tag, self.report_path, self.assessment = None, None, None
        self.device_label.setText("No device scanned")
        self._show_checks(None)
        self.certify_button.setEnabled(False)
        self.release_button.setEnabled(False)
