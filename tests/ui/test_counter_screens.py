"""Goods-in, collections, sign-in and switching operator, first run, and starting the program."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.domain.devices import DeviceState
from app.domain.people import Operator, Role
from app.ui import application
from app.ui.first_run import DemoOffer, FirstRunDialog
from app.ui.sign_in import SignInDialog
from tests.ui.conftest import ADMIN, ENGINEER, PINS, device, find, scan, type_slowly


def test_goods_in_receives_a_scanned_tag_and_serial_into_stock(qtbot, window, station):
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_panel() is window.panels[1]
    assert "Scans go to: Goods-in" in find(window, "scanTargetLabel").text()
    type_slowly(qtbot, window, find(window, "goodsModelField"), "Dell Latitude 5450", False)
    type_slowly(qtbot, window, find(window, "goodsOsField"), "Windows 11", False)
    scan(qtbot, window, "NEW-00101")
    scan(qtbot, window, "5CD0000101")
    assert find(window, "goodsTagField").text() == "NEW-00101"
    assert find(window, "goodsSerialField").text() == "5CD0000101"
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    banner = find(window, "statusBanner").text()
    assert banner.startswith("Done: NEW-00101 · laptop · Dell Latitude 5450 · Windows 11 received")
    received = device(station, "NEW-00101")
    assert (received.state, received.serial, received.site) == (DeviceState.IN_STOCK,
                                                                "5CD0000101", "Hutton HQ")
    assert find(window, "goodsTagField").text() == ""
    assert find(window, "goodsModelField").text() == "Dell Latitude 5450"   # kept for the next

    scan(qtbot, window, "NEW-00001")
    scan(qtbot, window, "5CD9999999")
    find(window, "receiveButton").click()
    assert "NEW-00001 is already registered" in find(window, "statusBanner").text()


def test_collections_screen_says_what_is_awaited_and_refuses_other_devices(qtbot, window):
    window.show_panel(3)
    person = find(window, "collectPersonField")
    type_slowly(qtbot, window, person, "P1003")
    assert "no courier exchange is waiting" in find(window, "awaitedLabel").text()
    scan(qtbot, find(window, "collectField"), "OLD-00001")
    assert find(window, "statusBanner").text().startswith(
        "Refused: OLD-00001 is not awaited from a courier exchange")


def test_switching_operator_is_one_step_and_signing_out_locks_the_screens(
        qtbot, window, monkeypatch):
    lead = Operator("L1", "Lee Lead", Role.SITE_LEAD)
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: lead))
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.session.operator == lead
    assert find(window, "operatorLabel").text() == "Signed in: Lee Lead (L1, site lead)"
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: None))
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.session.operator is None
    assert find(window, "operatorLabel").text() == "Signed out"
    assert not find(window, "screens").isEnabled()


def test_sign_in_dialog_says_a_wrong_pin_inline_and_signs_in_with_the_right_one(qtbot, station):
    dialog = SignInDialog(None, station.context, ENGINEER)
    qtbot.addWidget(dialog)
    find(dialog, "signInPinField").setText("0000")
    dialog.accept()
    assert "do not match an operator" in find(dialog, "signInError").text()
    assert find(dialog, "signInPinField").text() == ""
    find(dialog, "signInPinField").setText(PINS[ENGINEER])
    dialog.accept()
    assert dialog.operator.staff_id == ENGINEER


def test_gui_with_operator_and_pin_opens_signed_in(qtbot, station, monkeypatch):
    monkeypatch.setenv("EXCHANGE_PIN", PINS[ENGINEER])
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: pytest_fail()))
    window = application.build_window(station, ENGINEER)
    qtbot.addWidget(window)
    assert window.session.operator.staff_id == ENGINEER
    window.close()


def test_gui_with_a_wrong_pin_asks_again_saying_why(qtbot, station, monkeypatch):
    asked = []
    monkeypatch.setenv("EXCHANGE_PIN", "0000")
    monkeypatch.setattr(SignInDialog, "ask", classmethod(
        lambda cls, parent, ctx, staff, message: asked.append((staff, message))))
    assert application.build_window(station, ENGINEER) is None
    assert asked and asked[0][0] == ENGINEER and "do not match" in asked[0][1]


def test_without_a_display_the_program_says_so_and_exits_2(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert not application.display_available(platform="linux")
    assert application.display_available({}, platform="win32")
    assert application.run_gui(None, None) == 2 if _linux() else True
    if _linux():
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("exchange-station: no display")


def test_first_run_creates_the_station_its_admin_and_demo_data(qtbot, tmp_path):
    from app.services import auth, counter, station

    dialog = FirstRunDialog(None, tmp_path / "new", None)
    qtbot.addWidget(dialog)
    for name, text in (("stationIdField", "NEW-01"), ("siteField", "Hutton HQ"),
                       ("adminField", "a9"), ("adminNameField", "Ann Admin"),
                       ("adminPinField", "123456"), ("adminPinAgainField", "654321")):
        find(dialog, name).setText(text)
    dialog.accept()
    assert "PINs differ" in find(dialog, "firstRunError").text()
    assert dialog.station is None
    find(dialog, "adminPinAgainField").setText("123456")
    assert find(dialog, "demoCheck").isChecked()
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    ctx = dialog.station.context
    try:
        assert station.status(ctx).site == "Hutton HQ"
        assert auth.sign_in(ctx, "A9", "123456").role is Role.ADMIN
        assert not counter.station_is_empty(ctx)
    finally:
        dialog.station.close()


def test_a_new_data_folder_opens_the_first_run_dialog(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(
        lambda cls, parent, data_dir, opened: asked.append((data_dir, opened))))
    assert application.prepare_station(tmp_path / "empty") is None
    assert asked == [(tmp_path / "empty", None)]


def test_an_admin_on_an_empty_station_is_offered_demo_data(qtbot, tmp_path, monkeypatch):
    from app.bootstrap import open_station
    from app.services import auth, counter, station
    from app.ui.first_run import offer_demo_data

    opened = open_station(tmp_path / "s", create=True)
    try:
        station.initialise(opened.context, "HQ-02", "Brentwood")
        admin = auth.add_operator(opened.context, None, ADMIN, "Ada", "admin", PINS[ADMIN])
        monkeypatch.setattr(DemoOffer, "ask", classmethod(lambda cls, parent: True))
        assert not offer_demo_data(None, opened, Operator("E9", "Eng", Role.ENGINEER))
        assert offer_demo_data(None, opened, admin)
        assert not counter.station_is_empty(opened.context)
        assert not offer_demo_data(None, opened, admin)   # only on an empty station
    finally:
        opened.close()


def pytest_fail():
    raise AssertionError("the sign-in dialog should not be shown")


def _linux() -> bool:
    import sys

    return sys.platform.startswith("linux")


def test_every_screen_is_one_shortcut_away_and_takes_the_scans(qtbot, window):
    for index in range(len(window.panels)):
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{index + 1}"),
                       Qt.KeyboardModifier.ControlModifier)
        assert window.current_panel() is window.panels[index]
        title = window.panels[index].title
        assert find(window, "scanTargetLabel").text() == f"Scans go to: {title}"


def test_first_run_saves_the_central_database_and_refuses_a_password_in_it(qtbot, tmp_path):
    dialog = FirstRunDialog(None, tmp_path / "new", None)
    qtbot.addWidget(dialog)
    for name, text in (("stationIdField", "NEW-01"), ("siteField", "Hutton HQ"),
                       ("adminField", "A9"), ("adminNameField", "Ann Admin"),
                       ("adminPinField", "123456"), ("adminPinAgainField", "123456"),
                       ("centralUrlField", "postgresql://st:secret@central/exchange")):
        find(dialog, name).setText(text)
    find(dialog, "demoCheck").setChecked(False)
    dialog.accept()
    assert "a password is never written in the URL" in find(dialog, "firstRunError").text()
    assert not (tmp_path / "new" / "station.toml").exists()
    dialog.station.close()
    url = "postgresql://station_new_01@central.example/exchange?sslmode=verify-full"
    dialog = FirstRunDialog(None, tmp_path / "other", None)
    qtbot.addWidget(dialog)
    for name, text in (("stationIdField", "NEW-02"), ("siteField", "Hutton HQ"),
                       ("adminField", "A9"), ("adminNameField", "Ann Admin"),
                       ("adminPinField", "123456"), ("adminPinAgainField", "123456"),
                       ("centralUrlField", url)):
        find(dialog, name).setText(text)
    find(dialog, "demoCheck").setChecked(False)
    dialog.accept()
    try:
        assert dialog.result() == dialog.DialogCode.Accepted
        assert dialog.station.config.central_url == url
    finally:
        dialog.station.close()
