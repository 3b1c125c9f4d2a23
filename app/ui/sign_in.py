"""Sign-in by staff number (a badge scanned into the field works) and PIN.

Used at start and for "Switch operator" (Ctrl+L) on a shared counter PC: one step signs the
current operator out and the next one in. Tests replace `SignInDialog.ask`.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from app.domain.people import Operator
from app.domain.rules import StationError
from app.services import auth
from app.services.context import ServiceContext
from app.ui.panel import named


class SignInDialog(QDialog):
    @classmethod
    def ask(cls, parent: QWidget | None, ctx: ServiceContext, staff_id: str = "",
            message: str = "") -> Operator | None:
        """The operator who signed in, or None when cancelled."""
        dialog = cls(parent, ctx, staff_id, message)
        return dialog.operator if dialog.exec() == QDialog.DialogCode.Accepted else None

    def __init__(self, parent: QWidget | None, ctx: ServiceContext, staff_id: str = "",
                 message: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Sign in — Exchange Station")
        self.setObjectName("signInDialog")
        self.setAccessibleName("Sign in")
        self.ctx = ctx
        self.operator: Operator | None = None
        self.staff_field = named(QLineEdit(staff_id, self), "Staff number", "Your staff number; "
                                 "you may scan your badge", "signInStaffField")
        self.staff_field.setProperty("scanTarget", True)
        self.pin_field = named(QLineEdit(self), "PIN", "Your PIN", "signInPinField")
        self.pin_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = named(QLabel(message, self), "Sign-in problem", "Why sign-in failed",
                           "signInError")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Staff number:", self.staff_field)
        form.addRow("&PIN:", self.pin_field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Sign &in")
        named(ok, "Sign in", "Sign in with this staff number and PIN", "signInButton")
        named(buttons.button(QDialogButtonBox.StandardButton.Cancel), "Cancel",
              "Close without signing in", "signInCancelButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.error)
        column.addWidget(buttons)
        (self.pin_field if staff_id else self.staff_field).setFocus()

    def accept(self) -> None:
        if not self.staff_field.text().strip():
            self.staff_field.setFocus()
            return self._say("Enter or scan your staff number.")
        if not self.pin_field.text():
            self.pin_field.setFocus()
            return self._say("Enter your PIN.")
        try:
            self.operator = auth.sign_in(self.ctx, self.staff_field.text(), self.pin_field.text())
        except StationError as exc:
            self.pin_field.clear()
            self.pin_field.setFocus()
            return self._say(exc.user_message)
        super().accept()
        return None

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.setAccessibleDescription(text)
