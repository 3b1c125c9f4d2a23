"""The counter window: wires the panels, the banner, the menus, the status bar and the scanners.

Scans (wedge bursts, the camera, the scan field) are routed by workflow state: the current screen
gets them. Nothing here decides a rule or calls a service beyond the status bar's refresh.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QMainWindow, QTabWidget, QVBoxLayout,
                               QWidget)

from app.scanning.frame_sources import FrameSource
from app.ui.banner import StatusBanner
from app.ui.camera_panel import CameraPanel
from app.ui.collections_panel import CollectionsPanel
from app.ui.exchange_panel import ExchangePanel
from app.ui.feedback import Feedback, Outcome, Tone
from app.ui.goods_in_panel import GoodsInPanel
from app.services import syncing
from app.ui.help_menu import add_help_menu
from app.ui.sync_worker import SyncWorker
from app.ui.panel import Panel, name_view_parts
from app.ui.reclamation_panel import ReclamationPanel
from app.ui.conflicts_panel import ConflictsPanel
from app.ui.reports_panel import ReportsPanel
from app.ui.sanitisation_panel import SanitisationPanel
from app.ui.session import CounterSession
from app.ui.sign_in import SignInDialog
from app.ui.status_bar import StationStatusBar
from app.ui.theme import Theme, UiSettings
from app.ui.wedge import WedgeScanFilter

SHORTCUTS = ("Ctrl+1..5 screens · Alt+P person · Alt+S scan field · Delete removes the selected "
             "scan · Alt+O override · Ctrl+Enter complete · Ctrl+N new exchange · F8 camera · "
             "Ctrl+L switch operator · Ctrl+Shift+H high contrast · Ctrl++ / Ctrl+- text size · "
             "Ctrl+M mute · F1 this list")


class MainWindow(QMainWindow):
    def __init__(self, session: CounterSession, settings: UiSettings | None = None,
                 theme: Theme | None = None,
                 camera_source_factory: Callable[[], FrameSource] | None = None):
        super().__init__()
        self.setObjectName("counterWindow")
        self.setWindowTitle("Exchange Station — counter")
        self.setAccessibleName("Exchange Station counter")
        self.session = session
        self.settings = settings or UiSettings()
        self.theme = theme
        self.feedback = Feedback(self, muted=self.settings.muted)
        config = session.ctx.config
        self.wedge = WedgeScanFilter(self, max_gap_ms=config.scan_max_key_gap_ms,
                                     repeat_ms=config.scan_repeat_ignore_ms)
        self.exchange = ExchangePanel(session)
        self.panels: list[Panel] = [self.exchange, GoodsInPanel(session),
                                    ReclamationPanel(session), CollectionsPanel(session),
                                    SanitisationPanel(session), ReportsPanel(session),
                                    ConflictsPanel(session)]
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("screens")
        self.tabs.setAccessibleName("Screens")
        for panel in self.panels:
            self.tabs.addTab(panel, panel.title)
            name_view_parts(panel)
        self.banner = StatusBanner(self)
        self.banner.high_contrast = self.settings.high_contrast
        self.status = StationStatusBar(session.ctx, self)
        self.setStatusBar(self.status)
        self.camera = CameraPanel(session.ctx, self, source_factory=camera_source_factory)
        self.camera_dock = QDockWidget("Camera", self)
        self.camera_dock.setObjectName("cameraDock")
        self.camera_dock.setWidget(self.camera)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.camera_dock)
        self.camera_dock.hide()
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.addWidget(self.tabs, 1)
        column.addWidget(self.banner)
        self.setCentralWidget(central)
        self._build_menus()
        self._connect()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(30_000)
        self._status_timer.timeout.connect(self.status.refresh)
        self._status_timer.start()
        self.sync = SyncWorker(session.ctx, self)
        self.sync.sync_started.connect(self.status.show_sync_started)
        self.sync.sync_finished.connect(self._on_sync_finished)
        self.sync.start()
        QApplication.instance().installEventFilter(self.wedge)
        self._on_operator_changed(session.operator)
        self._on_tab_changed(0)
        self.resize(1100, 720)

    # -- Qt overrides ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.camera.stop()
        self._status_timer.stop()
        self.sync.stop()
        QApplication.instance().removeEventFilter(self.wedge)
        self.settings.save()
        super().closeEvent(event)

    # -- public API --------------------------------------------------------------------------

    def current_panel(self) -> Panel:
        return self.panels[self.tabs.currentIndex()]

    def show_panel(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def switch_operator(self) -> None:
        """Sign the current operator out and the next one in: one step on a shared PC."""
        self.session.sign_out()
        operator = SignInDialog.ask(self, self.session.ctx)
        if operator is not None:
            self.session.sign_in(operator)

    def show_outcome(self, outcome: Outcome, with_sound: bool = True) -> None:
        self.banner.show_outcome(outcome)
        if with_sound:
            self.feedback.give(outcome, self.banner)
        if outcome.tone is Tone.SUCCESS:
            self.status.refresh()

    # -- building ----------------------------------------------------------------------------

    def _build_menus(self) -> None:
        go = self.menuBar().addMenu("&Go")
        for index, panel in enumerate(self.panels):
            self._action(go, panel.title, f"Ctrl+{index + 1}", lambda i=index: self.show_panel(i))
        go.addSeparator()
        self._action(go, "Camera scanning", "F8", self._toggle_camera)
        self._action(go, "Sync now", "F9", self._on_sync_requested)
        self._action(go, "Switch operator / sign out", "Ctrl+L", self.switch_operator)
        self._action(go, "Quit", "Ctrl+Q", self.close)
        view = self.menuBar().addMenu("&View")
        self.contrast_action = self._action(view, "High contrast", "Ctrl+Shift+H",
                                            self._on_contrast_toggled, self.settings.high_contrast)
        self._action(view, "Larger text", QKeySequence.StandardKey.ZoomIn, lambda: self._text(1))
        self._action(view, "Larger text (Ctrl+=)", "Ctrl+=", lambda: self._text(1))
        self._action(view, "Smaller text", QKeySequence.StandardKey.ZoomOut, lambda: self._text(-1))
        self.mute_action = self._action(view, "Mute sounds", "Ctrl+M", self._on_mute_toggled,
                                        self.settings.muted)
        self._action(view, "Keyboard shortcuts", "F1", self._show_shortcuts)
        add_help_menu(self)

    def _on_sync_requested(self) -> None:
        if not self.sync.configured:
            self.status.show_sync_report(syncing.sync_now(self.session.ctx))
        else:
            self.sync.sync_now()

    def _on_sync_finished(self, report) -> None:  # noqa: ANN001 - SyncReport
        self.status.show_sync_report(report)
        if report.pulled:  # what the current screen lists may have changed
            self.current_panel().refresh()

    def _action(self, menu, text: str, keys, slot, checked: bool | None = None) -> QAction:  # noqa: ANN001
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut
                                  if keys == "Ctrl+L" else Qt.ShortcutContext.WindowShortcut)
        if checked is not None:
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _connect(self) -> None:
        self.wedge.scanned.connect(self._on_scanned)
        self.camera.tag_found.connect(lambda tag: self._on_scanned(tag, None))
        self.exchange.exchange_completed.connect(lambda _receipt: self.camera.forget())
        for panel in self.panels:
            panel.reported.connect(self._on_panel_reported)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.session.operator_changed.connect(self._on_operator_changed)

    # -- slots -------------------------------------------------------------------------------

    def _on_scanned(self, text: str, origin: QWidget | None) -> None:
        if self.session.operator is None:
            self.show_outcome(Outcome(Tone.REFUSED, f"{text} was not used: sign in first "
                                      "(Ctrl+L)"))
        elif QApplication.activeModalWidget() is not None:
            self.show_outcome(Outcome(Tone.REFUSED, f"{text} was not used: a dialog is open; "
                                      "close it and scan again"))
        else:
            self.current_panel().accept_scan(text, origin)

    def _on_panel_reported(self, outcome: Outcome) -> None:
        if self.sender() is self.current_panel():
            self.show_outcome(outcome)

    def _on_tab_changed(self, index: int) -> None:
        panel = self.panels[index]
        self.status.show_scan_target(panel.title)
        panel.refresh()
        self.show_outcome(panel.last_outcome, with_sound=False)
        panel.focus_entry()

    def _on_operator_changed(self, operator) -> None:  # noqa: ANN001 - Operator | None
        self.status.show_operator(self.session.describe_operator())
        self.tabs.setEnabled(operator is not None)
        self.status.refresh()
        if operator is None:
            self.show_outcome(Outcome(Tone.INFO, "signed out: press Ctrl+L to sign in"), False)
        else:
            self.current_panel().refresh()
            self.show_outcome(Outcome(Tone.INFO, f"{operator.name} signed in: "
                                      f"{self.current_panel().hint}"), False)
            self.current_panel().focus_entry()

    def _toggle_camera(self) -> None:
        if self.camera.running:
            self.camera.stop()
            self.camera_dock.hide()
        else:
            self.camera_dock.show()
            self.camera.start()
        self.current_panel().focus_entry()

    def _on_contrast_toggled(self, on: bool) -> None:
        self.settings.high_contrast = on
        self._apply_theme()

    def _on_mute_toggled(self, on: bool) -> None:
        self.settings.muted = self.feedback.muted = on
        self.show_outcome(Outcome(Tone.INFO, "sounds muted" if on else "sounds on"), False)

    def _text(self, step: int) -> None:
        self.settings.larger(step)
        self._apply_theme()
        self.show_outcome(Outcome(Tone.INFO, f"text size {self.settings.text_scale:.0%}"), False)

    def _apply_theme(self) -> None:
        if self.theme is not None:
            self.theme.apply(self.settings)
        self.banner.high_contrast = self.settings.high_contrast
        self.banner.restyle()
        self.settings.save()

    def _show_shortcuts(self) -> None:
        self.show_outcome(Outcome(Tone.INFO, SHORTCUTS), with_sound=False)
        self.feedback.announce(SHORTCUTS, self.banner)
