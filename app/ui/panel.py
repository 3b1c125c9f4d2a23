"""What every counter screen has: a title, a scan entry point and the outcome it last reported."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHeaderView, QLabel, QWidget

from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.session import CounterSession


class Panel(QWidget):
    """A screen in the window's tabs. Scans reach the current panel through `accept_scan`."""

    reported = Signal(object)  # Outcome

    title = "Panel"
    hint = ""

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.last_outcome = Outcome(Tone.INFO, self.hint)

    def accept_scan(self, text: str) -> None:
        """A wedge or camera scan while this panel is shown."""
        raise NotImplementedError

    def focus_entry(self) -> None:
        """Put the keyboard focus where the next scan or entry goes."""

    def refresh(self) -> None:
        """Reload what the panel lists (after a sync, a sign-in, or another panel's change)."""

    def report(self, outcome: Outcome) -> None:
        self.last_outcome = outcome
        self.reported.emit(outcome)

    def attempt(self, action: Callable[[], Outcome]) -> bool:
        """Run one service call; report its outcome, or the error as a refusal. True if done."""
        try:
            outcome = action()
        except Exception as exc:  # noqa: BLE001 - every error becomes a banner, never a traceback
            self.report(outcome_for_error(exc))
            return False
        self.report(outcome)
        return True


def buddy_label(text: str, buddy: QWidget, parent: QWidget | None = None) -> QLabel:
    """A label with an Alt mnemonic that moves focus to `buddy` (and names it, for AT)."""
    label = QLabel(text, parent)
    label.setBuddy(buddy)
    if not buddy.accessibleName():
        buddy.setAccessibleName(text.replace("&", ""))
    return label


def named(widget: QWidget, name: str, description: str, object_name: str = "") -> QWidget:
    """Give a widget its accessible name and description (and optionally its objectName)."""
    widget.setAccessibleName(name)
    widget.setAccessibleDescription(description)
    if object_name:
        widget.setObjectName(object_name)
    return widget


def name_view_parts(root: QWidget) -> None:
    """Name the parts Qt makes inside views (table headings, combo-box lists) after their owner,
    so that every interactive widget of every panel has an accessible name and description."""
    for header in root.findChildren(QHeaderView):
        owner = header.parentWidget().accessibleName() if header.parentWidget() else ""
        words = "column headings" if header.orientation() == Qt.Orientation.Horizontal \
            else "row headings"
        if not header.accessibleName():
            header.setAccessibleName(f"{owner or 'Table'} {words}")
        if not header.accessibleDescription():
            header.setAccessibleDescription(f"The {words} of {owner or 'the table'}")
    for combo in root.findChildren(QComboBox):
        owner = combo.accessibleName() or "Choices"
        if not combo.view().accessibleName():
            combo.view().setAccessibleName(f"{owner} choices")
        if not combo.view().accessibleDescription():
            combo.view().setAccessibleDescription(f"The list of choices for {owner}")
