"""Identify the person at the counter: badge scan, staff number, or search by name.

Shows who they are (shielding, assistive technology) and what the register says they hold.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QWidget)

from app.domain.devices import Device, describe_state
from app.domain.people import Person
from app.services import counter
from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.panel import buddy_label, named
from app.ui.session import CounterSession


def device_line(device: Device | None, tag: str = "") -> str:
    if device is None:
        return f"{tag} · not in the register"
    return (f"{device.tag} · {device.type.value} · {device.model} · {device.os or 'no OS'}"
            f" · {describe_state(device.state)}")


class PersonBox(QWidget):
    identified = Signal(object)   # counter.Identified with a person
    failed = Signal(object)       # Outcome

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.current: counter.Identified | None = None
        self.field = named(QLineEdit(self), "Person", "Scan a staff badge, type a staff number, "
                           "or type part of a name and press Enter", "personField")
        self.field.setPlaceholderText("Staff badge, staff number or name, then Enter")
        self.results = named(QListWidget(self), "People found",
                             "Choose a person with the arrow keys and press Enter",
                             "peopleResults")
        self.results.setVisible(False)
        self.results.setMaximumHeight(120)
        self.summary = named(QLabel("No person yet", self), "Person details",
                             "Who is at the counter", "personSummary")
        self.summary.setWordWrap(True)
        self.holdings = named(QListWidget(self), "Holds", "What the register says this person "
                              "holds", "holdingsList")
        self.holdings.setMaximumHeight(110)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(buddy_label("&Person:", self.field, self), 0, 0)
        grid.addWidget(self.field, 0, 1)
        grid.addWidget(self.results, 1, 1)
        grid.addWidget(self.summary, 2, 0, 1, 2)
        grid.addWidget(buddy_label("&Holds:", self.holdings, self), 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.holdings, 3, 1)
        self.field.returnPressed.connect(lambda: self.identify(self.field.text()))
        self.results.itemActivated.connect(self._on_result_chosen)

    # -- public API --------------------------------------------------------------------------

    @property
    def person(self) -> Person | None:
        return self.current.person if self.current else None

    def identify(self, text: str, first: str = "") -> bool:
        """Look the text up; show the person, or the people whose name matches. True if found.
        `first` is said before the reason when nobody is found."""
        if not text.strip():
            return False
        try:
            found = counter.identify(self.session.ctx, text)
        except Exception as exc:  # noqa: BLE001 - shown in the banner
            outcome = outcome_for_error(exc)
            self.failed.emit(Outcome(outcome.tone, f"{first}{outcome.text}"))
            return False
        if found.person is None:
            self._show_candidates(found.candidates)
            return False
        self.show_person(found)
        return True

    def finds_someone(self, text: str) -> bool:
        """True when `text` is a staff number or part of a name (not, say, a device tag)."""
        try:
            counter.identify(self.session.ctx, text)
        except Exception:  # noqa: BLE001 - not a person: the caller treats it as a device
            return False
        return True

    def show_person(self, found: counter.Identified, quiet: bool = False) -> None:
        """Show the person found; `identified` is emitted unless `quiet` (a refresh)."""
        self.current = found
        person = found.person
        self.field.setText(person.staff_id)
        self.results.clear()
        self.results.setVisible(False)
        facts = [f"{person.name} ({person.staff_id})",
                 "formally shielding (courier possible)" if person.shielding else "not shielding",
                 "uses assistive technology: confirm it works (R8)" if person.assistive_tech
                 else "no assistive technology"]
        if found.awaiting_collection:
            facts.append("courier exchange open until "
                         + ", ".join(found.awaiting_collection) + " is collected")
        self.summary.setText(" — ".join(facts))
        self.summary.setAccessibleDescription(self.summary.text())
        self.holdings.clear()
        for device in found.holdings:
            sole = " · sole-use desktop" if device.sole_use else ""
            self.holdings.addItem(device_line(device) + sole)
        if not found.holdings:
            self.holdings.addItem("nothing registered to this person")
        if not quiet:
            self.identified.emit(found)

    def reload(self) -> None:
        """Show the current person again with fresh holdings (after an exchange)."""
        if self.person is None:
            return
        try:
            self.show_person(counter.identify(self.session.ctx, self.person.staff_id), quiet=True)
        except Exception as exc:  # noqa: BLE001 - shown in the banner
            self.failed.emit(outcome_for_error(exc))

    def clear(self) -> None:
        self.current = None
        self.field.clear()
        self.results.clear()
        self.results.setVisible(False)
        self.summary.setText("No person yet")
        self.holdings.clear()

    # -- private -----------------------------------------------------------------------------

    def _show_candidates(self, people: tuple[Person, ...]) -> None:
        self.results.clear()
        for person in people:
            item = QListWidgetItem(f"{person.name} ({person.staff_id})")
            item.setData(Qt.ItemDataRole.UserRole, person.staff_id)
            self.results.addItem(item)
        self.results.setVisible(True)
        self.results.setCurrentRow(0)
        self.results.setFocus()
        self.failed.emit(Outcome(Tone.INFO, f"{len(people)} people match: choose one with the "
                                 "arrow keys and press Enter"))

    def _on_result_chosen(self, item: QListWidgetItem) -> None:
        self.identify(item.data(Qt.ItemDataRole.UserRole))
