"""The window's background sync: F9 or the timer, and the syncIndicator says how it went."""

from __future__ import annotations

import dataclasses
import re
import socket

import pytest
from PySide6.QtCore import Qt

from app.ui.when import short_time
from tests.ui.conftest import exchange_via_service, find


def window_with_central(qtbot, station, engineer, url):
    from app.services.context import ServiceContext
    from app.ui.main_window import MainWindow
    from app.ui.session import CounterSession
    from app.ui.theme import UiSettings

    config = dataclasses.replace(station.context.config, central_url=url)
    ctx = ServiceContext(station.context.uow_factory, config, station.context.sync_runner)
    win = MainWindow(CounterSession(ctx, engineer), UiSettings(muted=True, path=None))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.mark.postgres
def test_sync_now_pushes_the_events_and_the_indicator_says_all_synced(qtbot, station, engineer,
                                                                      pg_database):
    from app.sync.central import upgrade_central

    upgrade_central(pg_database)
    exchange_via_service(station, "P1001", ("OLD-00001",), ("NEW-00001",), at_confirmed=True)
    win = window_with_central(qtbot, station, engineer, pg_database)
    indicator = find(win, "syncIndicator")
    with qtbot.waitSignal(win.sync.sync_finished, timeout=30_000) as finished:
        qtbot.keyClick(win, Qt.Key.Key_F9)
    report = finished.args[0]
    assert report.ok and report.pushed > 0 and report.unsynced == 0
    assert re.match(r"Sync: all synced · last sync \d{1,2} [A-Z][a-z]{2} \d\d:\d\d( · |$)",
                    indicator.text()), indicator.text()
    assert report.last_sync_at and short_time(report.last_sync_at) in indicator.text()
    assert "failed" not in indicator.text()
    win.close()


def test_an_unreachable_central_shows_in_the_indicator_and_nothing_is_lost(qtbot, station,
                                                                           engineer):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exchange_via_service(station, "P1001", ("OLD-00001",), ("NEW-00001",), at_confirmed=True)
    win = window_with_central(qtbot, station, engineer,
                              f"postgresql://station@127.0.0.1:{port}/central")
    with qtbot.waitSignal(win.sync.sync_finished, timeout=30_000) as finished:
        assert win.sync.sync_now()
    assert not finished.args[0].ok and finished.args[0].unsynced > 0
    text = find(win, "syncIndicator").text()
    assert "not yet synced" in text and "last attempt failed" in text
    win.close()


def test_without_a_central_database_sync_now_says_how_to_set_one(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_F9)
    assert "no central database is set" in find(window, "syncIndicator").text()


def test_a_sync_notice_shows_in_the_indicator(qtbot, window):
    """A restore from an older copy: the indicator says how many events came back."""
    from app.sync.runner import SyncReport

    notice = ("this station was restored from an older copy: 3 events recorded here after the "
              "copy was taken came back from central")
    window.status.show_sync_report(SyncReport(last_sync_at="2026-11-25T10:00", notice=notice))
    text = find(window, "syncIndicator").text()
    assert text.startswith("Sync: all synced") and "3 events recorded here" in text
