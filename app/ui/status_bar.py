"""The status bar: who is signed in, where scans go, and the sync indicator (`syncIndicator`).

Sync trouble shows here, never in a pop-up. Until sync exists the indicator shows the events not
yet synced and "never" for the last sync, from `station.status`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.services import station
from app.services.context import ServiceContext
from app.ui.panel import named
from app.ui.when import short_time


class StationStatusBar(QStatusBar):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("stationStatusBar")
        self.setAccessibleName("Status bar")
        self.ctx = ctx
        self.operator_label = named(QLabel("Signed out", self), "Operator",
                                    "Who is signed in, and their role", "operatorLabel")
        self.scan_target = named(QLabel("", self), "Scans go to", "The screen that receives "
                                 "scans", "scanTargetLabel")
        self.sync_indicator = named(QLabel("Sync: not checked", self), "Sync status",
                                    "Events not yet synced to the central database, and the "
                                    "last sync", "syncIndicator")
        self.addWidget(self.operator_label, 1)
        self.addPermanentWidget(self.scan_target)
        self.addPermanentWidget(self.sync_indicator)

    def show_operator(self, text: str) -> None:
        self.operator_label.setText(text)
        self.operator_label.setAccessibleDescription(text)

    def show_scan_target(self, title: str) -> None:
        self.scan_target.setText(f"Scans go to: {title}")

    def show_sync_started(self) -> None:
        self._set_sync_text("Sync: syncing with the central database…")

    def show_sync_report(self, report) -> None:  # noqa: ANN001 - app.sync.runner.SyncReport
        """After a sync cycle: what is still unsynced, the last success, and the last error."""
        pending = report.unsynced
        state = "all synced" if pending == 0 else f"{pending} event{'s' * (pending != 1)} " \
                                                  "not yet synced"
        text = f"Sync: {state} · last sync {short_time(report.last_sync_at)}"
        if report.error:
            text += f" · last attempt failed: {report.error}"
        elif report.conflicts:
            text += f" · {report.conflicts} conflict(s) for a site lead to resolve"
        if report.notice and not report.error:  # e.g. restored from an older copy
            text += f" · {report.notice}"
        self._set_sync_text(text)

    def _set_sync_text(self, text: str) -> None:
        self.sync_indicator.setText(text)
        self.sync_indicator.setAccessibleDescription(text)

    def refresh(self) -> None:
        """Read the station status; a failure shows in the indicator, never as a dialog."""
        try:
            status = station.status(self.ctx)
        except Exception as exc:  # noqa: BLE001 - status must never stop the counter
            text = f"Sync: status unavailable ({getattr(exc, 'user_message', type(exc).__name__)})"
        else:
            last = short_time(status.last_sync)
            pending = status.unsynced_events
            word = "event" if pending == 1 else "events"
            state = "all synced" if pending == 0 else f"{pending} {word} not yet synced"
            text = f"Sync: {state} · last sync {last} · station {status.station} ({status.site})"
        self.sync_indicator.setText(text)
        self.sync_indicator.setAccessibleDescription(text)
