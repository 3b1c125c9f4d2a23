"""A site lead's override of R1 or R3: their staff number and PIN, which rule, and the reason.

Only an exception needs this dialog; a normal refusal is never a dialog. The lead's authority is
checked here (so a wrong PIN is said at once, inline) and again when the exchange is recorded.
Tests replace `OverrideDialog.ask`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QLabel, QLineEdit, QVBoxLayout, QWidget)

from app.domain.people import Permission
from app.domain.rules import RuleViolation, StationError
from app.services import auth
from app.services.context import ServiceContext
from app.services.exchanges import OverrideRequest
from app.ui.panel import named

REASONS = ("Device reported lost", "Device reported stolen", "Register is wrong",
           "Other (say what)")


class OverrideDialog(QDialog):
    @classmethod
    def ask(cls, parent: QWidget | None, ctx: ServiceContext,
            violations: Sequence[RuleViolation]) -> OverrideRequest | None:
        """Show the dialog; the authorised override, or None when cancelled."""
        dialog = cls(parent, ctx, violations)
        return dialog.request if dialog.exec() == QDialog.DialogCode.Accepted else None

    def __init__(self, parent: QWidget | None, ctx: ServiceContext,
                 violations: Sequence[RuleViolation]):
        super().__init__(parent)
        self.setWindowTitle("Site lead override")
        self.setObjectName("overrideDialog")
        self.setAccessibleName("Site lead override")
        self.ctx = ctx
        self.request: OverrideRequest | None = None
        self.lead_field = named(QLineEdit(self), "Site lead staff number", "The authorising "
                                "site lead's staff number; their badge may be scanned here",
                                "leadField")
        self.lead_field.setProperty("scanTarget", True)
        self.pin_field = named(QLineEdit(self), "Site lead PIN", "The site lead's PIN",
                               "leadPinField")
        self.pin_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.rule_checks = [self._rule_check(v) for v in violations if v.overridable]
        self.reason_kind = named(QComboBox(self), "Reason", "Why the rule is set aside",
                                 "reasonKind")
        self.reason_kind.addItems(REASONS)
        named(self.reason_kind.view(), "Reasons", "Choose why the rule is set aside")
        self.reference = named(QLineEdit(self), "Reference or details", "For example the lost "
                               "or stolen report reference", "reasonReference")
        self.error = named(QLabel("", self), "Override problem", "Why the override was not "
                           "accepted", "overrideError")
        self.error.setWordWrap(True)
        self._lay_out()

    def accept(self) -> None:
        problem = self._problem()
        if problem:
            self._say(problem)
            return
        try:
            lead = auth.authorise(self.ctx, self.lead_field.text(), self.pin_field.text(),
                                  Permission.OVERRIDE)
        except StationError as exc:
            self.pin_field.clear()
            self._say(exc.user_message)
            return
        reason = f"{self.reason_kind.currentText()}: {self.reference.text().strip()}"
        self.request = OverrideRequest(reason, lead.staff_id, self.pin_field.text())
        super().accept()

    def _problem(self) -> str:
        if not self.lead_field.text().strip():
            self.lead_field.setFocus()
            return "Enter or scan the site lead's staff number."
        if not self.pin_field.text():
            self.pin_field.setFocus()
            return "The site lead enters their PIN."
        unticked = [c for c in self.rule_checks if not c.isChecked()]
        if unticked:
            unticked[0].setFocus()
            return "Tick each rule you authorise setting aside."
        if len(self.reference.text().strip()) < 3:
            self.reference.setFocus()
            return "Give the reference or details (for example the lost-report number)."
        return ""

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.setAccessibleDescription(text)

    def _rule_check(self, violation: RuleViolation) -> QCheckBox:
        check = QCheckBox(f"Set aside {violation.code}", self)
        check.setObjectName(f"overrideRule{violation.code}")
        check.setAccessibleName(f"Set aside {violation.code}")
        check.setAccessibleDescription(violation.message)
        check.setToolTip(violation.message)
        return check

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Site lead &staff number:", self.lead_field)
        form.addRow("Site lead &PIN:", self.pin_field)
        for check in self.rule_checks:
            form.addRow(check)
            note = QLabel(check.accessibleDescription(), self)
            note.setWordWrap(True)
            form.addRow(note)
        form.addRow("&Reason:", self.reason_kind)
        form.addRow("Reference / &details:", self.reference)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Authorise")
        named(ok, "Authorise", "Record the site lead's override", "authoriseButton")
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        named(cancel, "Cancel", "Close without an override", "cancelOverrideButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.error)
        column.addWidget(buttons)
