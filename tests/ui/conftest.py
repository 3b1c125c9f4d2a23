"""The counter window on a real SQLite station with the demo site, driven offscreen with qtbot.

The station (admin A1, site lead L1, engineer E1, demo people, register and stock) is built once
per test session and copied for each test, so PIN hashing and the imports run once.

Demo site facts the tests rely on (app/services/demo.py): person P10nn holds OLD-000nn (a laptop;
a tablet when nn is a multiple of 7); P1003, P1013, P1023 are shielding; P1005, P1013, P1021 use
assistive technology; P1004, P1008... also hold sole-use desktop DSK-000nn. Stock: NEW-00001..30
laptops and NEW-00031..40 tablets, all Windows 11.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

ADMIN, LEAD, ENGINEER = "A1", "L1", "E1"
PINS = {ADMIN: "1111", LEAD: "2222", ENGINEER: "3333"}
SITE = "Hutton HQ"


class SteppedClock:
    """A monotonic clock the test moves: each reading advances it by `step` seconds."""

    def __init__(self, start: float = 1000.0, step: float = 0.005):
        self.now, self.step = start, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture(autouse=True)
def _widgets_deleted_after_each_test():
    """Delete the widgets pytest-qt closed (deleteLater), so none outlive their station."""
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    leftovers = [w for w in QApplication.topLevelWidgets() if w.objectName() in
                 ("counterWindow", "overrideDialog", "signInDialog", "firstRunDialog")]
    assert leftovers == [], leftovers


@pytest.fixture(scope="session")
def template_station(tmp_path_factory) -> Path:
    from app.bootstrap import open_station
    from app.services import auth, demo, station

    folder = tmp_path_factory.mktemp("template") / "station"
    opened = open_station(folder, create=True)
    station.initialise(opened.context, "HQ-01", SITE)
    admin = auth.add_operator(opened.context, None, ADMIN, "Ada Admin", "admin", PINS[ADMIN])
    auth.add_operator(opened.context, admin, LEAD, "Lee Lead", "site_lead", PINS[LEAD])
    auth.add_operator(opened.context, admin, ENGINEER, "Eve Engineer", "engineer",
                      PINS[ENGINEER])
    demo.load_demo(opened.context, admin, SITE)
    opened.close()
    return folder


@pytest.fixture
def station(template_station: Path, tmp_path: Path):
    from app.bootstrap import open_station

    folder = tmp_path / "station"
    shutil.copytree(template_station, folder)
    opened = open_station(folder)
    yield opened
    opened.close()


@pytest.fixture
def engineer(station):
    from app.domain.people import Operator, Role

    return Operator(ENGINEER, "Eve Engineer", Role.ENGINEER)


@pytest.fixture
def window(qtbot, station, engineer):
    from app.ui.main_window import MainWindow
    from app.ui.session import CounterSession
    from app.ui.theme import Theme, UiSettings

    app = QApplication.instance()
    theme = Theme(app)
    win = MainWindow(CounterSession(station.context, engineer),
                     UiSettings(muted=True, path=None), theme)
    win.wedge.clock = SteppedClock()   # a scanner's 5 ms between keys, whatever the machine load
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    yield win
    win.close()
    theme.apply(UiSettings())


def find(window: QWidget, name: str) -> QWidget:
    widget = window.findChild(QWidget, name)
    assert widget is not None, f"no widget named {name}"
    return widget


def scan(qtbot, widget: QWidget, text: str, suffix=Qt.Key.Key_Return) -> None:
    """Type `text` into `widget` as a wedge scanner does: all at once, then Enter."""
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, suffix)


def type_slowly(qtbot, window, widget: QWidget, text: str, enter: bool = True) -> None:
    """Type like a person: 300 ms between keys on the filter's clock (no real waiting)."""
    scanner_clock = window.wedge.clock
    window.wedge.clock = SteppedClock(step=0.3)
    for char in text:
        qtbot.keyClick(widget, char)
    if enter:
        qtbot.keyClick(widget, Qt.Key.Key_Return)
    window.wedge.flush()
    window.wedge.clock = scanner_clock


def identify(qtbot, window, staff_id: str) -> None:
    scan(qtbot, find(window, "scanField"), staff_id)
    assert window.exchange.person_box.person is not None
    assert window.exchange.person_box.person.staff_id == staff_id


def exchange_via_service(station, staff_id: str, returned: tuple, issued: tuple, **options):
    """Record an exchange directly through the service (setting the scene for a test)."""
    from app.domain.people import Operator, Role
    from app.services import exchanges

    operator = Operator(ENGINEER, "Eve Engineer", Role.ENGINEER)
    return exchanges.record_exchange(station.context, operator, exchanges.ExchangeCommand(
        staff_id, returned, issued, **options))


def device(station, tag: str):
    from app.services import lookup

    return lookup.find_device(station.context, tag).device
