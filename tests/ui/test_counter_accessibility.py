"""Keyboard-only use, accessible names, announcements, feedback tones and the themes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QPalette
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QComboBox,
                               QLineEdit, QTabBar, QWidget)

from app.domain.rules import RuleViolation
from app.ui.feedback import Feedback, Outcome, Tone, contrast_ratio, tone_colours
from app.ui.first_run import FirstRunDialog
from app.ui.override_dialog import OverrideDialog
from app.ui.sign_in import SignInDialog
from tests.ui.conftest import find, scan

AUTOMATION_NAMES = ("personField", "scanField", "returnList", "issueList", "completeButton",
                    "overrideButton", "courierCheck", "atConfirmCheck", "statusBanner",
                    "syncIndicator")
INTERACTIVE = (QAbstractButton, QLineEdit, QAbstractItemView, QComboBox, QTabBar)


def _unnamed(top: QWidget) -> list[str]:
    missing = []
    for widget in [top, *top.findChildren(QWidget)]:
        if not isinstance(widget, INTERACTIVE) or widget.objectName().startswith("qt_"):
            continue
        if type(widget).__name__ in ("QToolButton",) and not widget.isVisibleTo(top):
            continue  # hidden scroll arrows of the tab bar
        face = QAccessible.queryAccessibleInterface(widget)
        if face is None or not face.text(QAccessible.Text.Name).strip():
            missing.append(f"name of {type(widget).__name__} {widget.objectName()!r}")
        elif not face.text(QAccessible.Text.Description).strip():
            missing.append(f"description of {type(widget).__name__} "
                           f"{face.text(QAccessible.Text.Name)!r}")
    return missing


def test_key_widgets_carry_their_automation_names(window):
    for name in AUTOMATION_NAMES:
        assert find(window, name) is not None


def test_every_interactive_widget_has_an_accessible_name_and_description(qtbot, window, station):
    assert _unnamed(window) == []
    for dialog in (SignInDialog(None, station.context),
                   OverrideDialog(None, station.context, [RuleViolation("R1", "no handover")]),
                   FirstRunDialog(None, None, station)):
        qtbot.addWidget(dialog)
        assert _unnamed(dialog) == [], type(dialog).__name__


def test_whole_swap_with_tab_and_enter_only(qtbot, window, station):
    person = find(window, "personField")
    person.setFocus()
    qtbot.keyClicks(person, "P1001")
    qtbot.keyClick(person, Qt.Key.Key_Return)
    scan_field = find(window, "scanField")
    assert QApplication.focusWidget() is scan_field
    scan(qtbot, scan_field, "OLD-00001")
    scan(qtbot, scan_field, "NEW-00001")
    visited = []
    for _ in range(15):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget().objectName())
        if visited[-1] == "completeButton":
            break
    assert visited == ["addScanButton", "returnList", "issueList", "removeScanButton",
                       "courierCheck", "atConfirmCheck", "completeButton"]
    with qtbot.waitSignal(window.exchange.exchange_completed):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert QApplication.focusWidget() is scan_field


def test_tab_order_from_person_to_new_exchange(qtbot, window):
    chain = window.exchange
    expected = [chain.person_box.field, chain.person_box.holdings, chain.scan_field,
                chain.add_button, chain.return_list, chain.issue_list, chain.courier_check,
                chain.at_check, chain.new_button]
    for first, second in zip(expected, expected[1:]):
        first.setFocus()
        qtbot.keyClick(first, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is second, (first.objectName(), second.objectName())


def test_banner_text_is_announced_and_tones_differ_beyond_colour(qtbot, window):
    scan(qtbot, find(window, "scanField"), "P1001")
    banner = find(window, "statusBanner")
    assert window.feedback.last_announcement == banner.text()
    scan(qtbot, find(window, "scanField"), "12/$%")
    refused = (banner.text(), banner.property("tone"), banner.styleSheet())
    window.exchange.new_exchange()
    scan(qtbot, find(window, "scanField"), "P1002")
    scan(qtbot, find(window, "scanField"), "OLD-00002")
    scan(qtbot, find(window, "scanField"), "NEW-00002")
    with qtbot.waitSignal(window.exchange.exchange_completed):
        find(window, "completeButton").click()
    done = (banner.text(), banner.property("tone"), banner.styleSheet())
    assert refused[0].startswith("Refused:") and done[0].startswith("Done:")
    assert (refused[1], done[1]) == ("refused", "success")
    assert refused[2] != done[2]
    assert window.feedback.last_announcement == done[0]


def test_sounds_play_unless_muted(qtbot, window):
    feedback = Feedback(window)
    feedback.give(Outcome(Tone.SUCCESS, "saved"), window.banner)  # no audio device: no crash
    assert feedback.last_sound is Tone.SUCCESS
    feedback.muted = True
    feedback.last_sound = None
    feedback.give(Outcome(Tone.REFUSED, "refused"), window.banner)
    assert feedback.last_sound is None
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.feedback.muted is False and "sounds on" in window.banner.text()


def test_high_contrast_and_larger_text_from_the_keyboard(qtbot, window):
    app = QApplication.instance()
    size = app.font().pointSizeF()
    qtbot.keyClick(window, Qt.Key.Key_H,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.settings.high_contrast
    assert app.palette().color(QPalette.ColorRole.Window).lightness() == 0
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert app.font().pointSizeF() > size
    for tone in Tone:
        background, text = tone_colours(app.palette(), tone, high_contrast=True)
        assert contrast_ratio(background, text) >= 7.0, tone
    for tone in Tone:
        background, text = tone_colours(QPalette(), tone)
        assert contrast_ratio(background, text) >= 4.5, tone
