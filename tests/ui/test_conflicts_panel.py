"""The Conflicts screen: a device issued at two offline stations, settled by a site lead."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.domain.people import Operator, Role
from tests.ui.conftest import LEAD, PINS, SITE, exchange_via_service, find, type_slowly


@pytest.fixture
def clash(station, tmp_path, pg_database):
    """(central, each station's last sync before it issued NEW-00001): this station (HQ-01)
    and a second one (HQ-02) both issued NEW-00001."""
    from app.bootstrap import open_station
    from app.services import auth, exchanges
    from app.services import station as station_service
    from app.sync.central import upgrade_central
    from app.sync.outbox import StationOutbox
    from app.sync.runner import SyncRunner

    upgrade_central(pg_database)
    other = open_station(tmp_path / "hq-02", create=True)
    station_service.initialise(other.context, "HQ-02", SITE)
    admin = auth.add_operator(other.context, None, "A1", "Ada Admin", "admin", PINS["A1"])
    for st in (station, other):  # the register reaches HQ-02 through central
        assert SyncRunner(st.engine).run_once(pg_database).ok
    seen = {name: StationOutbox(st.engine).station().last_sync_at
            for name, st in (("HQ-01", station), ("HQ-02", other))}
    exchange_via_service(station, "P1001", ("OLD-00001",), ("NEW-00001",), at_confirmed=True)
    exchanges.record_exchange(other.context, admin, exchanges.ExchangeCommand(
        "P1002", ("OLD-00002",), ("NEW-00001",), at_confirmed=True))
    for st in (station, other, station):
        assert SyncRunner(st.engine).run_once(pg_database).ok
    yield pg_database, seen
    other.close()


@pytest.mark.postgres
def test_a_site_lead_sees_both_records_and_records_a_decision(qtbot, station, clash):
    from app.services.context import ServiceContext
    from app.sync.conflicts import open_conflicts
    from app.sync.runner import SyncRunner
    from app.ui.main_window import MainWindow
    from app.ui.session import CounterSession
    from app.ui.theme import UiSettings
    from app.ui.when import short_time

    url, seen = clash
    ctx = ServiceContext(station.context.uow_factory,
                         dataclasses.replace(station.context.config, central_url=url),
                         station.context.sync_runner)
    lead = Operator(LEAD, "Lee Lead", Role.SITE_LEAD)
    win = MainWindow(CounterSession(ctx, lead), UiSettings(muted=True, path=None))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    panel = win.panels[-1]
    with qtbot.waitSignal(panel.conflicts_loaded, timeout=20_000):
        qtbot.keyClick(win, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    table, records = find(panel, "conflictTable"), find(panel, "conflictRecords")
    assert table.rowCount() == 1
    assert table.item(0, 1).text() == "the same device was issued at two stations"
    assert table.item(0, 2).text() == "NEW-00001"
    assert sorted(records.item(r, 0).text() for r in range(records.rowCount())) == [
        "HQ-01", "HQ-02"]
    # when each station had last synced before it recorded its record (SYNC.md 2.5)
    assert records.horizontalHeaderItem(3).text() == "Had synced"
    synced = {st_id: short_time(when) for st_id, when in seen.items()}
    assert {records.item(r, 0).text(): records.item(r, 3).text()
            for r in range(records.rowCount())} == synced
    find(panel, "conflictHolderField").setText("P1001")
    type_slowly(qtbot, win, find(panel, "conflictNoteField"), "P1002 never had it; CCTV",
                enter=False)
    qtbot.mouseClick(find(panel, "resolveConflictButton"), Qt.MouseButton.LeftButton)
    assert "recorded" in find(win, "statusBanner").text()
    assert SyncRunner(station.engine).run_once(url).ok
    assert open_conflicts(url) == []
    win.close()


def test_without_central_the_screen_says_so(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    assert "No central database is set" in find(window, "statusBanner").text()


def test_an_engineer_cannot_record_a_decision(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    panel = window.current_panel()
    qtbot.mouseClick(find(panel, "resolveConflictButton"), Qt.MouseButton.LeftButton)
    assert "Pick a conflict" in find(window, "statusBanner").text()
