"""The exchange screen driven as an engineer does: badge, scans ending in Enter, Complete."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from app.domain.devices import DeviceState
from app.services import stock
from app.services.exchanges import OverrideRequest
from app.ui.override_dialog import OverrideDialog
from tests.ui.conftest import LEAD, PINS, SteppedClock, device, exchange_via_service, find, identify, scan


def _lists(window):
    return find(window, "returnList").tags(), find(window, "issueList").tags()


def _banner(window) -> str:
    return find(window, "statusBanner").text()


def test_normal_swap_is_scanned_completed_and_stored(qtbot, window, station):
    window.wedge.clock = time.monotonic   # the real clock, as at the counter
    scan_field = find(window, "scanField")
    identify(qtbot, window, "P1001")
    assert "P1001" in _banner(window)
    scan(qtbot, scan_field, "OLD-00001")
    scan(qtbot, scan_field, "NEW-00001")
    assert _lists(window) == (["OLD-00001"], ["NEW-00001"])
    assert "Ready: press Complete" in _banner(window)
    assert find(window, "completeButton").isEnabled()
    assert window.focusWidget() is scan_field

    with qtbot.waitSignal(window.exchange.exchange_completed) as done:
        qtbot.keyClick(scan_field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert done.args[0].outcome.issued == ("NEW-00001",)
    assert device(station, "OLD-00001").state is DeviceState.RETURNED
    new = device(station, "NEW-00001")
    assert (new.state, new.holder) == (DeviceState.ISSUED, "P1001")
    assert _banner(window).startswith("Done: exchange for")
    assert _lists(window) == ([], [])
    holdings = find(window, "holdingsList")
    assert any(holdings.item(i).text().startswith("NEW-00001") for i in range(holdings.count()))
    assert "not yet synced" in find(window, "syncIndicator").text()


def test_issue_is_refused_until_old_device_is_handed_over(qtbot, window):
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "NEW-00001")
    assert _lists(window) == ([], ["NEW-00001"])
    assert "R1 — no old laptop handed over" in _banner(window)
    assert _banner(window).startswith("Not yet:")
    assert not find(window, "completeButton").isEnabled()
    assert find(window, "overrideButton").isEnabled()


def test_device_already_returned_cannot_be_issued_again(qtbot, window, station):
    exchange_via_service(station, "P1001", ("OLD-00001",), ("NEW-00001",))
    identify(qtbot, window, "P1002")
    scan(qtbot, find(window, "scanField"), "OLD-00002")
    scan(qtbot, find(window, "scanField"), "OLD-00001")
    assert _lists(window) == (["OLD-00002"], ["OLD-00001"])
    assert "R2 — OLD-00001 is returned and awaiting sanitisation" in _banner(window)
    assert not find(window, "completeButton").isEnabled()
    assert not find(window, "overrideButton").isEnabled()  # R2 cannot be overridden


def test_device_registered_to_someone_else_is_refused_with_r3(qtbot, window):
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "OLD-00002")
    assert _lists(window) == (["OLD-00002"], [])
    assert "R3 — OLD-00002 is registered to P1002" in _banner(window)
    assert not find(window, "completeButton").isEnabled()
    assert find(window, "overrideButton").isEnabled()


def test_unknown_tag_goes_to_returned_with_r3_and_garbage_is_refused(qtbot, window):
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "ZZZ-99999")
    assert _lists(window) == (["ZZZ-99999"], [])
    assert "R3 — ZZZ-99999 is not in the register" in _banner(window)
    scan(qtbot, find(window, "scanField"), "12/$%")
    assert _banner(window).startswith("Refused:")
    assert "is not an asset tag" in _banner(window)
    assert _lists(window) == (["ZZZ-99999"], [])


def test_courier_is_refused_for_a_person_not_shielding(qtbot, window):
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "OLD-00001")
    scan(qtbot, find(window, "scanField"), "NEW-00001")
    find(window, "courierCheck").click()
    assert "R5 — " in _banner(window) and "not formally shielding" in _banner(window)
    assert not find(window, "completeButton").isEnabled()


def test_courier_is_refused_beyond_this_stations_allowance(qtbot, window):
    courier = find(window, "courierCheck")
    identify(qtbot, window, "P1003")
    assert "0 courier laptops left" in courier.text()
    scan(qtbot, find(window, "scanField"), "OLD-00003")
    scan(qtbot, find(window, "scanField"), "NEW-00003")
    courier.click()
    assert "courier laptops may not pass 25%" in _banner(window)
    assert "3 more must go over the counter first" in _banner(window)
    assert not find(window, "completeButton").isEnabled()


def test_courier_swap_stays_open_until_the_old_device_is_collected(qtbot, window, station):
    for n in (1, 2, 4):
        exchange_via_service(station, f"P100{n}", (f"OLD-0000{n}",), (f"NEW-0000{n}",))
    identify(qtbot, window, "P1003")
    assert "1 courier laptop left" in find(window, "courierCheck").text()
    scan(qtbot, find(window, "scanField"), "OLD-00003")
    scan(qtbot, find(window, "scanField"), "NEW-00003")
    find(window, "courierCheck").click()
    assert find(window, "completeButton").isEnabled()
    with qtbot.waitSignal(window.exchange.exchange_completed):
        find(window, "completeButton").click()
    assert "Sent by courier: NEW-00003" in _banner(window)
    assert device(station, "NEW-00003").state is DeviceState.COURIER_PENDING
    assert "0 courier laptops left" in find(window, "courierCheck").text()

    window.show_panel(3)
    scan(qtbot, find(window, "collectField"), "OLD-00003")
    assert "OLD-00003 collected; now issued: NEW-00003" in _banner(window)
    assert device(station, "NEW-00003").state is DeviceState.ISSUED
    assert device(station, "OLD-00003").state is DeviceState.RETURNED


def test_device_without_the_approved_build_is_refused_with_r7(qtbot, window, station, engineer):
    stock.receive(station.context, engineer, "W81-00001", "SER-W81", "laptop", "HP 840 G1",
                  "Windows 8.1")
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "OLD-00001")
    scan(qtbot, find(window, "scanField"), "W81-00001")
    assert "R7 — W81-00001 carries 'Windows 8.1'" in _banner(window)
    assert not find(window, "completeButton").isEnabled()


def test_assistive_technology_must_be_confirmed_before_completion(qtbot, window):
    identify(qtbot, window, "P1005")
    assert "uses assistive technology" in find(window, "personSummary").text()
    scan(qtbot, find(window, "scanField"), "OLD-00005")
    scan(qtbot, find(window, "scanField"), "NEW-00005")
    assert "R8 — " in _banner(window)
    assert not find(window, "completeButton").isEnabled()
    at_check = find(window, "atConfirmCheck")
    at_check.setFocus()
    qtbot.keyClick(at_check, Qt.Key.Key_Space)
    assert at_check.isChecked()
    assert find(window, "completeButton").isEnabled()
    with qtbot.waitSignal(window.exchange.exchange_completed) as done:
        find(window, "completeButton").click()
    assert done.args[0].outcome.issued == ("NEW-00005",)


def test_laptop_for_sole_desktop_user_raises_a_reclamation_task_that_is_then_closed(
        qtbot, window, station):
    identify(qtbot, window, "P1004")
    scan(qtbot, find(window, "scanField"), "OLD-00004")
    scan(qtbot, find(window, "scanField"), "NEW-00004")
    with qtbot.waitSignal(window.exchange.exchange_completed):
        find(window, "completeButton").click()
    assert "R4 — reclamation task raised for sole-use desktop DSK-00004" in _banner(window)
    assert [t.tag for t in stock.open_reclamation_tasks(station.context)] == ["DSK-00004"]

    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_panel() is window.panels[2]
    assert window.panels[2].tags() == ["DSK-00004"]
    scan(qtbot, find(window, "reclaimField"), "DSK-00004")
    assert "desktop DSK-00004 of P1004 reclaimed" in _banner(window)
    assert stock.open_reclamation_tasks(station.context) == []
    assert device(station, "DSK-00004").state is DeviceState.RETURNED
    scan(qtbot, find(window, "reclaimField"), "DSK-00008")
    assert _banner(window).startswith("Refused: R4 — DSK-00008 has no open reclamation task")


def test_site_lead_override_unlocks_an_exception_recorded_as_such(
        qtbot, window, station, monkeypatch):
    asked = []

    def fake_ask(parent, ctx, violations):
        asked.append([v.code for v in violations])
        return OverrideRequest("Device reported lost: LOST-REF-77", LEAD, PINS[LEAD])

    monkeypatch.setattr(OverrideDialog, "ask", classmethod(lambda cls, *a: fake_ask(*a)))
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "NEW-00001")
    with qtbot.waitSignal(find(window, "overrideButton").clicked):  # a mnemonic animates a click
        qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert asked == [["R1"]]
    assert "Override of R1 authorised by L1" in _banner(window)
    assert not find(window, "overrideButton").isEnabled()
    with qtbot.waitSignal(window.exchange.exchange_completed) as done:
        find(window, "completeButton").click()
    exceptions = done.args[0].outcome.exceptions
    assert [(e.rule, e.authorised_by) for e in exceptions] == [("R1", LEAD)]
    assert "Exception R1 recorded, authorised by L1" in _banner(window)
    assert device(station, "OLD-00001").state is DeviceState.LOST
    assert device(station, "NEW-00001").holder == "P1001"


def test_a_new_scan_after_an_override_needs_the_lead_again(qtbot, window, monkeypatch):
    monkeypatch.setattr(OverrideDialog, "ask", classmethod(
        lambda cls, *a: OverrideRequest("Device reported stolen: CRIME-1", LEAD, PINS[LEAD])))
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "NEW-00001")
    find(window, "overrideButton").click()
    assert find(window, "completeButton").isEnabled()
    scan(qtbot, find(window, "scanField"), "NEW-00002")
    assert not find(window, "completeButton").isEnabled()
    assert find(window, "overrideButton").isEnabled()


def test_override_dialog_checks_the_leads_pin_inline_and_needs_rule_and_reason(qtbot, station):
    from app.domain.rules import RuleViolation

    violations = [RuleViolation("R1", "no old laptop handed over"),
                  RuleViolation("R3", "ZZZ-1 is not in the register")]
    dialog = OverrideDialog(None, station.context, violations)
    qtbot.addWidget(dialog)
    find(dialog, "leadField").setText(LEAD)
    find(dialog, "leadPinField").setText("9999")
    dialog.accept()
    assert "Tick each rule" in find(dialog, "overrideError").text()
    find(dialog, "overrideRuleR1").setChecked(True)
    find(dialog, "overrideRuleR3").setChecked(True)
    find(dialog, "reasonReference").setText("LOST-1")
    dialog.accept()
    assert "do not match" in find(dialog, "overrideError").text()
    assert dialog.result() != dialog.DialogCode.Accepted
    find(dialog, "leadField").setText("E1")
    find(dialog, "leadPinField").setText("3333")
    dialog.accept()
    assert "may not override" in find(dialog, "overrideError").text()
    find(dialog, "leadField").setText(LEAD)
    find(dialog, "leadPinField").setText(PINS[LEAD])
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.request == OverrideRequest("Device reported lost: LOST-1", LEAD, PINS[LEAD])


def test_wrong_scan_is_removed_with_delete_or_the_button_before_completion(qtbot, window, station):
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "OLD-00001")
    scan(qtbot, find(window, "scanField"), "NEW-00031")   # a tablet: wrong device
    assert "R1" in _banner(window)
    issue_list = find(window, "issueList")
    issue_list.setFocus()
    issue_list.setCurrentRow(0)
    qtbot.keyClick(issue_list, Qt.Key.Key_Delete)
    assert _lists(window) == (["OLD-00001"], [])
    assert "Removed NEW-00031" in _banner(window)
    scan(qtbot, find(window, "scanField"), "NEW-00002")
    scan(qtbot, find(window, "scanField"), "NEW-00003")   # one too many
    with qtbot.waitSignal(find(window, "removeScanButton").clicked):
        qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert _lists(window) == (["OLD-00001"], ["NEW-00002"])
    assert find(window, "completeButton").isEnabled()
    with qtbot.waitSignal(window.exchange.exchange_completed):
        find(window, "completeButton").click()
    assert device(station, "NEW-00031").state is DeviceState.IN_STOCK
    assert device(station, "NEW-00003").state is DeviceState.IN_STOCK


def test_a_badge_scanned_mid_exchange_is_refused_and_starts_the_next_person_when_clear(
        qtbot, window):
    window.wedge.clock = clock = SteppedClock()
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "OLD-00001")
    scan(qtbot, find(window, "scanField"), "P1002")
    assert _banner(window).startswith("Refused:") and "not finished" in _banner(window)
    assert window.exchange.person_box.person.staff_id == "P1001"
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.exchange.person_box.person is None
    clock.now += 1.5  # the same badge again within a second would be ignored as a double read
    identify(qtbot, window, "P1002")


def test_search_by_name_offers_people_to_choose_with_the_keyboard(qtbot, window, station):
    from app.services import lookup

    person = lookup.find_person(station.context, "P1001")[0]
    surname = person.name.split()[-1]
    person_field = find(window, "personField")
    person_field.setFocus()
    scan(qtbot, person_field, surname)
    results = find(window, "peopleResults")
    assert results.isVisible() and results.count() >= 1
    assert window.focusWidget() is results
    row = next(i for i in range(results.count()) if "(P1001)" in results.item(i).text())
    results.setCurrentRow(row)
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert window.exchange.person_box.person.staff_id == "P1001"
    assert window.focusWidget() is find(window, "scanField")


def test_exchange_refused_at_completion_keeps_the_draft_and_says_why(qtbot, window, station):
    identify(qtbot, window, "P1001")
    scan(qtbot, find(window, "scanField"), "OLD-00001")
    scan(qtbot, find(window, "scanField"), "NEW-00001")
    exchange_via_service(station, "P1002", ("OLD-00002",), ("NEW-00001",))  # another counter
    find(window, "completeButton").click()
    assert _banner(window).startswith("Refused: Not completed; nothing was saved.")
    assert "R2 — NEW-00001 is issued" in _banner(window)
    assert _lists(window) == (["OLD-00001"], ["NEW-00001"])


def test_a_device_scanned_before_anyone_is_identified_asks_for_the_person_first(qtbot, window):
    scan(qtbot, find(window, "scanField"), "NEW-00001")
    assert _banner(window).startswith("Refused: identify the person first")
    assert _lists(window) == ([], [])
    assert window.focusWidget() is find(window, "scanField")
