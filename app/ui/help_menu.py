"""The Help menu: Open log folder, and About (version, station, database, schema, log).

`add_help_menu(window)` adds it to a QMainWindow whose `session.ctx` is the station's context.
`AboutBox.show_text` is a classmethod so that tests can replace the modal box.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QWidget

from app.logs import log_dir
from app.services.context import ServiceContext


class AboutBox:
    @classmethod
    def show_text(cls, parent: QWidget | None, text: str) -> None:
        QMessageBox.about(parent, "About Exchange Station", text)


def add_help_menu(window: QMainWindow) -> QMenu:
    menu = window.menuBar().addMenu("&Help")
    menu.setObjectName("helpMenu")
    for text, name, slot in (
            ("Open &log folder", "openLogFolderAction", open_log_folder),
            ("&About Exchange Station", "aboutAction",
             lambda: AboutBox.show_text(window, about_text(window.session.ctx)))):
        action = QAction(text, window)
        action.setObjectName(name)
        action.triggered.connect(lambda _=False, slot=slot: slot())
        menu.addAction(action)
    return menu


def open_log_folder() -> bool:
    """Show the log folder in the file manager (Explorer on Windows)."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def about_text(ctx: ServiceContext) -> str:
    from app.self_check import installation_facts

    facts = installation_facts(ctx)
    rows = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(str(v))}</td></tr>"
                   for k, v in facts.items())
    return (f"<h3>Exchange Station {escape(facts['Version'])}</h3>"
            "<p>The service-desk counter of the device refresh programme.</p>"
            f"<table cellspacing='4'>{rows}</table>")
