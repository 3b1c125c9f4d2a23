"""Help > Open log folder and Help > About in the counter window (qtbot, offscreen)."""

from __future__ import annotations

from PySide6.QtGui import QAction, QDesktopServices

from app import __version__
from app.ui import help_menu


def action(window, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, f"no action named {name}"
    return found


def test_help_menu_is_in_the_menu_bar(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help"
    menu = window.menuBar().actions()[-1].menu()
    assert [a.objectName() for a in menu.actions()] == ["openLogFolderAction", "aboutAction"]


def test_open_log_folder_opens_the_log_directory(window, monkeypatch, tmp_path):
    monkeypatch.setenv("EXCHANGE_LOG_DIR", str(tmp_path / "logs"))
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    action(window, "openLogFolderAction").trigger()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "logs")]
    assert opened[0].scheme() == "file"
    assert (tmp_path / "logs").is_dir()


def test_about_shows_version_station_database_and_schema(window, station, monkeypatch):
    shown = []
    monkeypatch.setattr(help_menu.AboutBox, "show_text",
                        classmethod(lambda cls, parent, text: shown.append((parent, text))))
    action(window, "aboutAction").trigger()
    assert len(shown) == 1
    parent, text = shown[0]
    assert parent is window
    assert __version__ in text
    assert "HQ-01" in text and "Hutton HQ" in text
    assert str(station.db_path) in text
    assert f"<td>{station.schema}</td>" in text
    assert "exchange-station.log" in text


def test_the_demo_window_opens_signed_in_as_the_demo_admin(qtbot, tmp_path):
    from app.bootstrap import open_station
    from app.cli import DEMO_ADMIN, DEMO_PIN, main
    from app.ui.application import build_window

    assert main(["--data-dir", str(tmp_path), "--demo", "init"]) == 0
    opened = open_station(tmp_path)
    try:
        window = build_window(opened, DEMO_ADMIN, DEMO_PIN)
        qtbot.addWidget(window)
        assert window.session.operator.staff_id == DEMO_ADMIN
        assert "Demo Admin" in window.session.describe_operator()
        window.close()
    finally:
        opened.close()
