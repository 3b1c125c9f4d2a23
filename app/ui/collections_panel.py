"""Courier collections (R5): the old device of a courier exchange comes back and is scanned in.

When the last awaited device is in, the new device the person received by courier counts as
issued. A staff number shows what a person's open courier exchange still waits for.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QGridLayout, QLabel, QLineEdit, QListWidget, QPushButton,
                               QVBoxLayout, QWidget)

from app.services import counter, exchanges
from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.panel import Panel, buddy_label, named
from app.ui.session import CounterSession


class CollectionsPanel(Panel):
    title = "Collections"
    hint = "scan the old device of a courier exchange when it arrives back"

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.tag_field = named(QLineEdit(self), "Old device tag", "Scan or type the tag of the "
                               "device that came back and press Enter", "collectField")
        self.collect_button = named(QPushButton("Co&llect", self), "Collect", "Record the "
                                    "device typed as collected", "collectButton")
        self.collect_button.setAutoDefault(True)
        self.person_field = named(QLineEdit(self), "Person awaited", "Type a staff number to see "
                                  "what their courier exchange waits for", "collectPersonField")
        self.awaited = named(QLabel("", self), "Awaited devices", "What the person's courier "
                             "exchange still waits for", "awaitedLabel")
        self.awaited.setWordWrap(True)
        self.collected = named(QListWidget(self), "Collected", "Devices collected in this "
                               "session", "collectedList")
        grid = QGridLayout()
        grid.addWidget(buddy_label("Old device &tag:", self.tag_field, self), 0, 0)
        grid.addWidget(self.tag_field, 0, 1)
        grid.addWidget(self.collect_button, 0, 2)
        grid.addWidget(buddy_label("&Person (what is awaited):", self.person_field, self), 1, 0)
        grid.addWidget(self.person_field, 1, 1)
        grid.addWidget(self.awaited, 2, 1, 1, 2)
        column = QVBoxLayout(self)
        column.addLayout(grid)
        column.addWidget(buddy_label("Collected this &session:", self.collected, self))
        column.addWidget(self.collected, 1)
        self.tag_field.returnPressed.connect(self._on_collect_entered)
        self.collect_button.clicked.connect(self._on_collect_entered)
        self.person_field.returnPressed.connect(self._on_person_entered)

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        if origin is self.person_field:
            self._show_awaited(text)
        else:
            self._collect(text)

    def focus_entry(self) -> None:
        self.tag_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_collect_entered(self) -> None:
        text = self.tag_field.text()
        self.tag_field.clear()
        if text.strip():
            self._collect(text)
        self.focus_entry()

    def _on_person_entered(self) -> None:
        self._show_awaited(self.person_field.text())

    def _show_awaited(self, staff_id: str) -> None:
        try:
            tags = counter.awaiting_collection(self.session.ctx, staff_id)
        except Exception as exc:  # noqa: BLE001 - shown in the banner
            self.report(outcome_for_error(exc))
            return
        self.person_field.setText(staff_id.strip().upper())
        text = (f"{staff_id.strip().upper()}: awaiting " + ", ".join(tags)) if tags else \
            f"{staff_id.strip().upper()}: no courier exchange is waiting for a device"
        self.awaited.setText(text)
        self.awaited.setAccessibleDescription(text)
        self.report(Outcome(Tone.INFO, text))

    def _collect(self, text: str) -> None:
        def collect() -> Outcome:
            done = exchanges.collect(self.session.ctx, self.session.operator, text)
            line = f"{done['collected']} collected"
            if done["still_awaited"]:
                line += "; still awaited: " + ", ".join(done["still_awaited"])
            if done["issued"]:
                line += "; now issued: " + ", ".join(done["issued"])
            self.collected.insertItem(0, line)
            return Outcome(Tone.SUCCESS, line + ". It awaits sanitisation.")
        self.attempt(collect)
