"""Reclamation tasks (R4): sole-use desktops to bring back; scanning one in closes its task."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.services import stock
from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.panel import Panel, buddy_label, named
from app.ui.session import CounterSession
from app.ui.when import short_time


class ReclamationPanel(Panel):
    title = "Reclamation"
    hint = "scan a desktop listed here to reclaim it and close its task (R4)"

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.tag_field = named(QLineEdit(self), "Desktop tag", "Scan or type the desktop's tag "
                               "and press Enter", "reclaimField")
        self.reclaim_button = named(QPushButton("Rec&laim", self), "Reclaim",
                                    "Reclaim the desktop whose tag is typed", "reclaimButton")
        self.reclaim_button.setAutoDefault(True)
        self.table = named(QTableWidget(0, 3, self), "Open reclamation tasks",
                           "Desktops to bring back: tag, person, raised", "reclamationTable")
        self.table.setHorizontalHeaderLabels(["Desktop", "Sole user", "Raised"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        named(self.table.horizontalHeader(), "Task columns", "Desktop, sole user, raised")
        named(self.table.verticalHeader(), "Task rows", "One row per open task")
        self.table.verticalHeader().setVisible(False)
        row = QHBoxLayout()
        row.addWidget(buddy_label("Desktop &tag:", self.tag_field, self))
        row.addWidget(self.tag_field, 1)
        row.addWidget(self.reclaim_button)
        column = QVBoxLayout(self)
        column.addLayout(row)
        column.addWidget(buddy_label("Open tas&ks:", self.table, self))
        column.addWidget(self.table, 1)
        self.tag_field.returnPressed.connect(self._on_reclaim_entered)
        self.reclaim_button.clicked.connect(self._on_reclaim_entered)

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        self._reclaim(text)

    def focus_entry(self) -> None:
        self.tag_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh(self) -> None:
        try:
            tasks = stock.open_reclamation_tasks(self.session.ctx)
        except Exception as exc:  # noqa: BLE001 - shown in the banner
            self.report(outcome_for_error(exc))
            return
        self.table.setRowCount(len(tasks))
        for row, task in enumerate(tasks):
            for column, value in enumerate((task.tag, task.staff_id,
                                            short_time(task.created_at, ""))):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.setAccessibleDescription(f"{len(tasks)} desktops to bring back")

    def tags(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]

    def _on_reclaim_entered(self) -> None:
        text = self.tag_field.text()
        self.tag_field.clear()
        if text.strip():
            self._reclaim(text)
        self.focus_entry()

    def _reclaim(self, text: str) -> None:
        def reclaim() -> Outcome:
            done = stock.reclaim(self.session.ctx, self.session.operator, text)
            return Outcome(Tone.SUCCESS, f"desktop {done['tag']} of {done['from']} reclaimed: it "
                           "is returned and awaits sanitisation; its task is closed.")
        self.attempt(reclaim)
        self.refresh()
