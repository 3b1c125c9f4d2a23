"""The long-lived sync worker: one cycle at a time on its own thread, on a timer or on demand.

The worker never touches a widget: it reports a `SyncReport` by signal, and the status bar shows
it. It has its own SQLite sessions and PostgreSQL connection (SyncRunner opens and closes them).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from app.services import syncing
from app.services.context import ServiceContext


class _SyncJob(QObject):
    finished = Signal(object)  # SyncReport

    def __init__(self, ctx: ServiceContext):
        super().__init__()
        self.ctx = ctx

    @Slot()
    def run(self) -> None:
        self.finished.emit(syncing.sync_now(self.ctx))


class SyncWorker(QObject):
    """Owned by the window: `start()` begins the timer, `sync_now()` asks for a cycle now."""

    sync_started = Signal()
    sync_finished = Signal(object)  # SyncReport
    _requested = Signal()

    def __init__(self, ctx: ServiceContext, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.busy = False
        self._thread = QThread(self)
        self._thread.setObjectName("syncThread")
        self._job = _SyncJob(ctx)
        self._job.moveToThread(self._thread)
        self._requested.connect(self._job.run)
        self._job.finished.connect(self._on_finished)
        self._timer = QTimer(self)
        self._timer.setInterval(ctx.config.sync_interval_s * 1000)
        self._timer.timeout.connect(self.sync_now)

    @property
    def configured(self) -> bool:
        return syncing.sync_configured(self.ctx)

    def start(self) -> None:
        self._thread.start()
        if self.configured:
            self._timer.start()
            QTimer.singleShot(2000, self.sync_now)

    def sync_now(self) -> bool:
        """Ask for one cycle; False when one is already running (it is not queued twice)."""
        if self.busy or not self._thread.isRunning():
            return False
        self.busy = True
        self.sync_started.emit()
        self._requested.emit()
        return True

    def stop(self) -> None:
        self._timer.stop()
        self._thread.quit()
        self._thread.wait()

    def _on_finished(self, report) -> None:  # noqa: ANN001 - SyncReport
        self.busy = False
        self.sync_finished.emit(report)
