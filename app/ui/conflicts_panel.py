"""Conflicts: what sync could not merge, both records side by side, and a site lead's decision.

The list comes from the central database (off the GUI thread); a decision is recorded as an
event on this station and reaches central with the next sync (F9), like any other event.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHBoxLayout,
                               QHeaderView, QLineEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from app.services import syncing
from app.ui.feedback import Outcome, Tone, outcome_for_error
from app.ui.jobs import run_in_background
from app.ui.panel import Panel, buddy_label, named
from app.ui.session import CounterSession
from app.ui.when import short_time

STATES = ("", "issued", "returned", "lost", "in_stock")


class ConflictsPanel(Panel):
    title = "Conflicts"
    hint = "pick a conflict, compare both records, and record what was found (site lead)"

    conflicts_loaded = Signal(object)  # list[Conflict]

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.conflicts: list = []
        self.load_button = named(QPushButton("&Load conflicts", self), "Load conflicts",
                                 "Read the open conflicts from the central database",
                                 "loadConflictsButton")
        self.table = self._table(["#", "What clashed", "Device or person", "Opened"],
                                 "Open conflicts", "conflictTable")
        self.records = self._table(["Station", "Seq", "Time", "Had synced", "Operator",
                                    "Event", "Details"],
                                   "Records side by side", "conflictRecords")
        self.holder_field = named(QLineEdit(self), "Holder now", "Staff number of who holds "
                                  "the device now; empty for nobody", "conflictHolderField")
        self.state_combo = named(QComboBox(self), "State now", "The device's state as found; "
                                 "empty to leave it", "conflictStateCombo")
        self.state_combo.addItems(["(leave as is)", *STATES[1:]])
        self.note_field = named(QLineEdit(self), "Decision note", "What was found, and why",
                                "conflictNoteField")
        self.resolve_button = named(QPushButton("&Record decision", self), "Record decision",
                                    "Record the decision; it syncs to central",
                                    "resolveConflictButton")
        self._layout()
        self.load_button.clicked.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._on_conflict_selected)
        self.resolve_button.clicked.connect(self._on_resolve)

    # -- Panel -------------------------------------------------------------------------------------

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        self.report(Outcome(Tone.INFO, "Scans are not used on the Conflicts screen."))

    def focus_entry(self) -> None:
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh(self) -> None:
        """Load the open conflicts from central in the background."""
        if not syncing.sync_configured(self.session.ctx):
            self.report(Outcome(Tone.INFO, "No central database is set for this station "
                                "(central_url in station.toml): there are no conflicts to see."))
            return
        from app.sync.conflicts import open_conflicts

        url = self.session.ctx.config.central_url
        self.load_button.setEnabled(False)
        run_in_background(lambda: open_conflicts(url), self._on_loaded, self._on_failed, self)

    # -- slots ---------------------------------------------------------------------------------

    def _on_loaded(self, conflicts: list) -> None:
        self.load_button.setEnabled(True)
        self.conflicts = conflicts
        self.table.setRowCount(len(conflicts))
        for row, c in enumerate(conflicts):
            for col, value in enumerate((str(c.conflict_id), c.description, c.subject_key,
                                         short_time(c.opened_at, ""))):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.report(Outcome(Tone.INFO, f"{len(conflicts)} open conflict(s)."))
        self.conflicts_loaded.emit(conflicts)
        if conflicts:
            self.table.selectRow(0)

    def _on_failed(self, exc: Exception) -> None:
        self.load_button.setEnabled(True)
        self.report(outcome_for_error(exc))

    def _on_conflict_selected(self) -> None:
        conflict = self._selected()
        records = conflict.records if conflict else ()
        self.records.setRowCount(len(records))
        for row, r in enumerate(records):
            details = json.dumps(r.payload, sort_keys=True)[:200] if r.payload else ""
            seen = short_time(r.central_seen_at) if r.says_when_synced else ""
            for col, value in enumerate((r.station_id or "", str(r.seq or ""),
                                         short_time(r.occurred_at, ""), seen,
                                         r.operator or "", r.type or "", details)):
                self.records.setItem(row, col, QTableWidgetItem(value))

    def _on_resolve(self) -> None:
        from app.sync.conflicts import resolve_conflict

        def act() -> Outcome:
            conflict = self._selected()
            if conflict is None:
                return Outcome(Tone.REFUSED, "Pick a conflict in the list first.")
            state = self.state_combo.currentIndex()
            holder = self.holder_field.text().strip()
            resolve_conflict(self.session.ctx, self.session.operator, conflict,
                             self.note_field.text(), holder=holder or None,
                             state=STATES[state] or None, keep_holder=bool(holder))
            self.note_field.clear()
            return Outcome(Tone.SUCCESS, f"Decision on conflict {conflict.conflict_id} recorded; "
                           "it reaches central with the next sync (F9).")
        self.attempt(act)

    # -- private -----------------------------------------------------------------------------

    def _selected(self):  # noqa: ANN202 - Conflict | None
        rows = self.table.selectionModel().selectedRows()
        return self.conflicts[rows[0].row()] if rows and self.conflicts else None

    def _table(self, headers: list[str], name: str, object_name: str) -> QTableWidget:
        table = named(QTableWidget(0, len(headers), self), name, ", ".join(headers), object_name)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setTabKeyNavigation(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        return table

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.load_button)
        top.addStretch(1)
        form = QFormLayout()
        form.addRow(buddy_label("&Holder now:", self.holder_field, self), self.holder_field)
        form.addRow(buddy_label("&State now:", self.state_combo, self), self.state_combo)
        form.addRow(buddy_label("&Note:", self.note_field, self), self.note_field)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(buddy_label("Open con&flicts:", self.table, self))
        column.addWidget(self.table, 1)
        column.addWidget(buddy_label("Rec&ords:", self.records, self))
        column.addWidget(self.records, 1)
        column.addLayout(form)
        column.addWidget(self.resolve_button, 0, Qt.AlignmentFlag.AlignRight)
