"""Wedge-scanner bursts and the camera: every scan takes the same path, none lands in a field."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from app.scanning.frame_sources import CameraUnavailable, SyntheticFrameSource
from app.scanning.label_scenes import Label, Scene, paint_frame
from app.ui.camera_panel import CameraPanel
from app.ui.sign_in import SignInDialog
from tests.ui.conftest import SteppedClock, device, find, identify, scan, type_slowly


def _issued(window) -> list[str]:
    return find(window, "issueList").tags()


def test_scan_while_another_field_has_focus_does_not_type_into_it(qtbot, window):
    identify(qtbot, window, "P1001")
    person_field = find(window, "personField")
    person_field.setFocus()
    scan(qtbot, person_field, "OLD-00001")
    assert person_field.text() == "P1001"
    assert find(window, "returnList").tags() == ["OLD-00001"]

    window.show_panel(1)
    model = find(window, "goodsModelField")
    model.setFocus()
    scan(qtbot, model, "NEW-00099")
    assert model.text() == ""
    assert find(window, "goodsTagField").text() == "NEW-00099"


def test_repeated_scan_within_a_second_is_ignored(qtbot, window):
    window.wedge.clock = clock = SteppedClock()
    identify(qtbot, window, "P1001")
    scan_field = find(window, "scanField")
    scan(qtbot, scan_field, "NEW-00001")
    with qtbot.waitSignal(window.wedge.repeat_ignored) as ignored:
        scan(qtbot, scan_field, "NEW-00001")
    assert ignored.args == ["NEW-00001"]
    assert _issued(window) == ["NEW-00001"]
    clock.now += 1.5
    scan(qtbot, scan_field, "NEW-00001")
    assert _issued(window) == ["NEW-00001"]
    assert "NEW-00001 is already in Issued" in find(window, "statusBanner").text()


def test_slow_typing_is_typing_and_reaches_the_focused_field(qtbot, window):
    person_field = find(window, "personField")
    person_field.setFocus()
    type_slowly(qtbot, window, person_field, "P1001", enter=False)
    assert person_field.text() == "P1001"
    qtbot.keyClick(person_field, Qt.Key.Key_Return)
    assert window.exchange.person_box.person.staff_id == "P1001"
    scan_field = find(window, "scanField")
    type_slowly(qtbot, window, scan_field, "old-00001")
    assert find(window, "returnList").tags() == ["OLD-00001"]
    assert scan_field.text() == ""


def test_aim_prefix_and_gs1_separator_are_stripped_from_a_burst(qtbot, window):
    identify(qtbot, window, "P1001")
    scan_field = find(window, "scanField")
    scan(qtbot, scan_field, "]C0OLD-00001")
    qtbot.keyClicks(scan_field, "NEW-")
    QApplication.sendEvent(scan_field, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_BracketRight,
                                                 Qt.KeyboardModifier.ControlModifier, "\x1d"))
    qtbot.keyClicks(scan_field, "00002")
    qtbot.keyClick(scan_field, Qt.Key.Key_Return)
    assert find(window, "returnList").tags() == ["OLD-00001"]
    assert _issued(window) == ["NEW-00002"]


def test_scanning_a_manufacturer_serial_finds_the_device(qtbot, window, station):
    serial = device(station, "NEW-00002").serial
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), serial)
    assert _issued(window) == ["NEW-00002"]


def test_tab_suffix_ends_a_scan_and_focus_stays_in_the_scan_field(qtbot, window):
    identify(qtbot, window, "P1001")
    scan_field = find(window, "scanField")
    scan(qtbot, scan_field, "NEW-00001", suffix=Qt.Key.Key_Tab)
    assert _issued(window) == ["NEW-00001"]
    assert window.focusWidget() is scan_field


def test_scan_while_signed_out_is_refused_not_lost_silently(qtbot, window):
    window.session.sign_out()
    assert not find(window, "screens").isEnabled()
    with qtbot.waitSignal(window.wedge.scanned):
        scan(qtbot, window, "NEW-00001")
    assert "NEW-00001 was not used: sign in first" in find(window, "statusBanner").text()


def test_badge_scanned_into_the_sign_in_staff_field_is_typed_there(qtbot, station):
    from app.ui.wedge import WedgeScanFilter

    wedge = WedgeScanFilter(clock=SteppedClock())
    QApplication.instance().installEventFilter(wedge)
    try:
        dialog = SignInDialog(None, station.context)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        staff = find(dialog, "signInStaffField")
        scan(qtbot, staff, "]C0e1")
        assert staff.text() == "E1"
        assert "Enter your PIN" in find(dialog, "signInError").text()
        pin = find(dialog, "signInPinField")
        qtbot.keyClicks(pin, "3333")   # a PIN typed fast is still a PIN, never a scan
        assert pin.text() == "3333"
        qtbot.keyClick(pin, Qt.Key.Key_Return)
        assert dialog.operator is not None and dialog.operator.staff_id == "E1"
    finally:
        QApplication.instance().removeEventFilter(wedge)


def _label_frames(tag: str, count: int = 40):
    frame = paint_frame(Scene(Label(tag, module_px=3.0), clutter=False, size=(640, 360), seed=3))
    return [frame] * count


def test_camera_tag_takes_the_same_path_as_a_wedge_scan(qtbot, window, station):
    identify(qtbot, window, "P1001")
    window.camera.source_factory = lambda: SyntheticFrameSource(_label_frames("NEW-00002"),
                                                                fps=15)
    with qtbot.waitSignal(window.camera.tag_found, timeout=15_000) as found:
        qtbot.keyClick(window, Qt.Key.Key_F8)
    assert found.args == ["NEW-00002"]
    assert _issued(window) == ["NEW-00002"]
    assert window.camera_dock.isVisible()
    qtbot.waitUntil(lambda: window.camera.preview.pixmap() is not None
                    and not window.camera.preview.pixmap().isNull())
    qtbot.keyClick(window, Qt.Key.Key_F8)
    assert not window.camera.running


def test_camera_with_no_frames_says_so(qtbot, station):
    panel = CameraPanel(station.context, source_factory=lambda: SyntheticFrameSource([]),
                        no_frame_timeout_s=0.3)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.camera_problem, timeout=5000):
        panel.start()
    assert "No picture from the synthetic camera" in find(panel, "cameraStatus").text()
    panel.stop()


def test_missing_camera_says_so(qtbot, station):
    class NoCamera(SyntheticFrameSource):
        def open(self):
            raise CameraUnavailable("The camera 0 could not be opened: check that it is plugged in")

    panel = CameraPanel(station.context, source_factory=lambda: NoCamera([]))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.camera_problem, timeout=5000):
        panel.start()
    assert "could not be opened" in find(panel, "cameraStatus").text()
    panel.stop()
    assert find(panel, "cameraStatus").text().startswith("Camera off")


def test_the_window_camera_reports_no_frames_after_three_seconds(window):
    assert window.camera.no_frame_timeout_s == 3.0


def test_burst_delivered_through_the_native_window_is_a_scan(qtbot, window):
    """Real key events reach the QWindow first and are forwarded to the focus widget."""
    identify(qtbot, window, "P1001")
    handle = window.windowHandle()
    for char in "NEW-00001":
        qtbot.keyClick(handle, char)
    qtbot.keyClick(handle, Qt.Key.Key_Return)
    assert _issued(window) == ["NEW-00001"]
    assert find(window, "scanField").text() == ""


def test_scan_while_the_override_dialog_is_open_is_not_typed_into_it(qtbot, window, station):
    from app.domain.rules import RuleViolation
    from app.ui.override_dialog import OverrideDialog

    dialog = OverrideDialog(window, station.context, [RuleViolation("R1", "no handover")])
    qtbot.addWidget(dialog)
    dialog.setModal(True)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    reference = find(dialog, "reasonReference")
    scan(qtbot, reference, "NEW-00001")
    assert reference.text() == ""
    assert "NEW-00001 was not used: a dialog is open" in find(window, "statusBanner").text()
    lead = find(dialog, "leadField")
    scan(qtbot, lead, "]C0L1", suffix=Qt.Key.Key_Tab)   # the lead's badge goes where it belongs
    assert lead.text() == "L1"
    assert dialog.focusWidget() is find(dialog, "leadPinField")
    dialog.reject()
