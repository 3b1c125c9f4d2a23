"""R1-R8 at the domain level: plain objects, no database, no Qt."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.courier import CourierAllowance
from app.domain.devices import BuildPolicy, Device, DeviceState, DeviceType
from app.domain.exchange import ExchangeRequest, Override, check_exchange, decide_exchange
from app.domain.people import Person
from app.domain.rules import BadInput, RuleRefused
from app.domain.sanitisation import Certificate, Route, release_violations

SITE = "Hutton HQ"
PAT = Person("P100", "Pat Jones", SITE)
SHIELDING = Person("P200", "Sam Shield", SITE, shielding=True)
AT_USER = Person("P300", "Alex Reader", SITE, assistive_tech=True)
LEAD_OVERRIDE = Override("laptop stolen, crime ref 44/1234/25", "L1")


def held(tag: str, kind: DeviceType = DeviceType.LAPTOP, holder: str = "P100",
         sole_use: bool = False) -> Device:
    return Device(tag, f"SN-{tag}", kind, "old model", "Windows 8.1", DeviceState.ISSUED,
                  holder=holder, sole_use=sole_use, site=SITE)


def stock(tag: str, kind: DeviceType = DeviceType.LAPTOP, os_name: str = "Windows 11") -> Device:
    return Device(tag, f"SN-{tag}", kind, "new model", os_name, DeviceState.IN_STOCK, site=SITE)


def request(person: Person = PAT, returned=(), issued=(), holdings=None, **kw) -> ExchangeRequest:
    holdings = tuple(returned) if holdings is None else tuple(holdings)
    return ExchangeRequest(person=person, holdings=holdings, returned=tuple(returned),
                           issued=tuple(issued), site=SITE, **kw)


def codes(req: ExchangeRequest) -> list[str]:
    return [v.code for v in check_exchange(req)]


# -- R1 handover before issue ------------------------------------------------------------------

def test_issue_is_refused_until_old_device_is_handed_over():
    with pytest.raises(RuleRefused) as refused:
        decide_exchange(request(issued=[stock("NEW-0001")], holdings=[held("OLD-0001")]))
    assert refused.value.error_code == "R1"
    assert "no old laptop handed over for new laptop NEW-0001" in refused.value.user_message


def test_like_for_like_swap_returns_old_and_issues_new():
    outcome = decide_exchange(request(returned=[held("OLD-0001")], issued=[stock("NEW-0001")]))
    states = {d.tag: (d.state, d.holder) for d in outcome.changed}
    assert states == {"OLD-0001": (DeviceState.RETURNED, None),
                      "NEW-0001": (DeviceState.ISSUED, "P100")}
    assert outcome.exceptions == ()


def test_desktop_may_be_exchanged_for_a_laptop_but_tablet_needs_a_tablet():
    assert codes(request(returned=[held("DSK-0001", DeviceType.DESKTOP)],
                         issued=[stock("NEW-0001")])) == []
    assert codes(request(returned=[held("OLD-0001")],
                         issued=[stock("TAB-0001", DeviceType.TABLET)])) == ["R1"]


def test_each_new_device_needs_its_own_old_device():
    assert codes(request(returned=[held("OLD-0001")],
                         issued=[stock("NEW-0001"), stock("NEW-0002")])) == ["R1"]


def test_r1_override_is_recorded_and_writes_off_the_lost_device():
    outcome = decide_exchange(request(issued=[stock("NEW-0001")], holdings=[held("OLD-0001")],
                                      override=LEAD_OVERRIDE))
    assert [(e.rule, e.authorised_by) for e in outcome.exceptions] == [("R1", "L1")]
    assert outcome.lost == ("OLD-0001",)
    assert {d.tag: d.state for d in outcome.changed}["OLD-0001"] is DeviceState.LOST


# -- R2 one device, one holder ------------------------------------------------------------------

@pytest.mark.parametrize("state", [DeviceState.ISSUED, DeviceState.RETURNED,
                                   DeviceState.SANITISED, DeviceState.DISPOSED, DeviceState.LOST])
def test_only_a_device_in_stock_can_be_issued(state):
    not_in_stock = replace(stock("NEW-0001"), state=state, holder="P999")
    violations = check_exchange(request(returned=[held("OLD-0001")], issued=[not_in_stock]))
    assert [v.code for v in violations] == ["R2"]
    assert "not in stock" in violations[0].message


def test_stock_of_another_site_cannot_be_issued():
    elsewhere = replace(stock("NEW-0001"), site="Other Site")
    assert codes(request(returned=[held("OLD-0001")], issued=[elsewhere])) == ["R2"]


def test_r2_cannot_be_overridden():
    issued_elsewhere = replace(stock("NEW-0001"), state=DeviceState.ISSUED, holder="P999")
    with pytest.raises(RuleRefused) as refused:
        decide_exchange(request(returned=[held("OLD-0001")], issued=[issued_elsewhere],
                                override=LEAD_OVERRIDE))
    assert refused.value.error_code == "R2"


# -- R3 the register must agree -----------------------------------------------------------------

def test_returned_device_registered_to_someone_else_is_refused():
    theirs = held("OLD-0009", holder="P999")
    violations = check_exchange(request(returned=[theirs], issued=[stock("NEW-0001")]))
    assert [v.code for v in violations] == ["R3"]
    assert "registered to P999" in violations[0].message


def test_device_already_returned_cannot_be_handed_back_again():
    again = replace(held("OLD-0001"), state=DeviceState.RETURNED, holder=None)
    assert codes(request(returned=[again], issued=[stock("NEW-0001")], holdings=[])) == ["R3"]


def test_unknown_returned_device_needs_an_override_and_is_then_registered():
    req = request(issued=[stock("NEW-0001")], holdings=[], unknown_returns=("OLD-7777",))
    assert codes(req) == ["R3"]
    outcome = decide_exchange(replace(req, override=LEAD_OVERRIDE))
    assert [e.rule for e in outcome.exceptions] == ["R3"]
    assert [(d.tag, d.state) for d in outcome.registered] == [("OLD-7777", DeviceState.RETURNED)]


# -- R4 desktop reclamation ---------------------------------------------------------------------

def test_laptop_for_sole_use_desktop_user_raises_a_reclamation_task():
    desktop = held("DSK-0001", DeviceType.DESKTOP, sole_use=True)
    outcome = decide_exchange(request(returned=[held("OLD-0001")], issued=[stock("NEW-0001")],
                                      holdings=[held("OLD-0001"), desktop]))
    assert outcome.reclamation_tasks == ("DSK-0001",)


def test_shared_desktops_and_handed_back_desktops_are_not_reclaimed():
    shared = held("DSK-0002", DeviceType.DESKTOP, sole_use=False)
    handed = held("DSK-0003", DeviceType.DESKTOP, sole_use=True)
    outcome = decide_exchange(request(returned=[handed], issued=[stock("NEW-0001")],
                                      holdings=[shared, handed]))
    assert outcome.reclamation_tasks == ()


def test_a_desktop_with_an_open_task_is_not_reclaimed_twice():
    desktop = held("DSK-0001", DeviceType.DESKTOP, sole_use=True)
    outcome = decide_exchange(request(returned=[held("OLD-0001")], issued=[stock("NEW-0001")],
                                      holdings=[held("OLD-0001"), desktop],
                                      open_reclamations=frozenset({"DSK-0001"})))
    assert outcome.reclamation_tasks == ()


# -- R5 courier only when shielding, at most 25% ------------------------------------------------

def test_courier_is_refused_for_a_person_not_shielding():
    violations = check_exchange(request(returned=[held("OLD-0001")], issued=[stock("NEW-0001")],
                                        courier=True, allowance=CourierAllowance(30, 0)))
    assert [v.code for v in violations] == ["R5"]
    assert "not formally shielding" in violations[0].message


def test_first_courier_laptop_needs_three_counter_laptops_first():
    def courier(counter_laptops: int) -> list[str]:
        return codes(request(SHIELDING, returned=[held("OLD-0002", holder="P200")],
                             issued=[stock("NEW-0001")], courier=True,
                             allowance=CourierAllowance(counter_laptops, 0)))
    assert courier(2) == ["R5"]
    assert courier(3) == []


@pytest.mark.parametrize("counter,courier,allowed", [(6, 1, True), (5, 1, False), (9, 3, False),
                                                     (12, 3, True)])
def test_courier_allowance_keeps_courier_at_most_a_quarter(counter, courier, allowed):
    allowance = CourierAllowance(counter, courier)
    assert allowance.allows(1) is allowed
    if allowed:
        after = allowance.after(0, 1)
        assert 4 * after.courier_laptops <= after.laptops_issued


def test_courier_exchange_keeps_old_device_until_collected():
    outcome = decide_exchange(request(
        SHIELDING, returned=[held("OLD-0002", holder="P200")], issued=[stock("NEW-0001")],
        courier=True, allowance=CourierAllowance(3, 0)))
    assert outcome.awaiting_collection == ("OLD-0002",)
    assert [(d.tag, d.state) for d in outcome.changed] == [("NEW-0001", DeviceState.COURIER_PENDING)]
    assert outcome.courier_laptops == 1


def test_nothing_else_is_issued_while_a_courier_exchange_is_open():
    req = request(SHIELDING, returned=[held("TAB-0002", DeviceType.TABLET, holder="P200")],
                  issued=[stock("TAB-0009", DeviceType.TABLET)],
                  awaiting_collection=("OLD-0002",))
    assert codes(req) == ["R5"]


# -- R6 no release without sanitisation ---------------------------------------------------------

def test_release_needs_a_matching_passed_certificate():
    device = replace(held("OLD-0001"), state=DeviceState.SANITISED, holder=None, serial="5CG-123 ab")
    good = Certificate("C1", "5cg123AB", ("DISK1",), passed=True)
    assert release_violations(device, good, Route.REUSE, known_disks=("disk-1",)) == []
    assert [v.code for v in release_violations(device, None, Route.REUSE)] == ["R6"]
    failed = replace(good, passed=False)
    assert "did not pass" in release_violations(device, failed, Route.REUSE)[0].message
    other = replace(good, system_serial="XXXXXXXX")
    assert "does not match" in release_violations(device, other, Route.REUSE)[0].message


def test_weee_accepts_recorded_physical_destruction():
    device = replace(held("OLD-0001"), state=DeviceState.RETURNED, holder=None)
    destroyed = Certificate("D1", "", (), passed=True, physical_destruction=True,
                            attested_tag="OLD-0001")  # a destruction entry names its device
    assert release_violations(device, destroyed, Route.WEEE) == []
    assert [v.code for v in release_violations(device, destroyed, Route.REUSE)] == ["R6"]


# -- R7 current build only ----------------------------------------------------------------------

@pytest.mark.parametrize("os_name,approved", [("Windows 8.1", False), ("Windows 10 22H2", True),
                                              ("Windows 11 Enterprise", True), ("", False),
                                              ("iPadOS 17", False)])
def test_only_an_approved_build_is_issued(os_name, approved):
    req = request(returned=[held("OLD-0001")], issued=[stock("NEW-0001", os_name=os_name)])
    assert codes(req) == ([] if approved else ["R7"])


def test_approved_build_is_configurable():
    req = request(returned=[held("OLD-0001")], issued=[stock("NEW-0001", os_name="Windows 10")],
                  policy=BuildPolicy(min_windows=11))
    assert codes(req) == ["R7"]


# -- R8 assistive technology --------------------------------------------------------------------

def test_at_user_exchange_completes_only_after_at_is_confirmed():
    req = request(AT_USER, returned=[held("OLD-0003", holder="P300")], issued=[stock("NEW-0001")])
    assert codes(req) == ["R8"]
    assert codes(replace(req, at_confirmed=True)) == []


# -- overrides and shape ------------------------------------------------------------------------

@pytest.mark.parametrize("rule_case", ["R5", "R7", "R8"])
def test_only_r1_and_r3_can_be_overridden(rule_case):
    req = {
        "R5": request(returned=[held("OLD-0001")], issued=[stock("NEW-0001")], courier=True,
                      allowance=CourierAllowance(9, 0)),
        "R7": request(returned=[held("OLD-0001")], issued=[stock("NEW-0001", os_name="Windows 8.1")]),
        "R8": request(AT_USER, returned=[held("OLD-0003", holder="P300")],
                      issued=[stock("NEW-0001")]),
    }[rule_case]
    with pytest.raises(RuleRefused) as refused:
        decide_exchange(replace(req, override=LEAD_OVERRIDE))
    assert refused.value.error_code == rule_case


def test_a_refusal_names_every_rule_broken():
    req = request(AT_USER, issued=[stock("NEW-0001", os_name="Windows 8.1")], holdings=[])
    assert codes(req) == ["R1", "R7", "R8"]


def test_empty_or_repeated_scans_are_bad_input():
    with pytest.raises(BadInput, match="nothing scanned"):
        check_exchange(request())
    with pytest.raises(BadInput, match="more than once"):
        check_exchange(request(returned=[held("OLD-0001"), held("OLD-0001")]))


def test_handing_back_without_issue_is_allowed():
    outcome = decide_exchange(request(returned=[held("OLD-0001")]))
    assert outcome.returned == ("OLD-0001",) and outcome.issued == ()


def test_an_override_cannot_take_back_a_device_that_was_never_issued():
    in_stock = stock("NEW-0009")
    with pytest.raises(RuleRefused) as refused:
        decide_exchange(request(returned=[in_stock], issued=[stock("NEW-0001")],
                                holdings=[], override=LEAD_OVERRIDE))
    assert refused.value.error_code == "R3"


def test_a_courier_only_awaits_a_device_the_person_holds():
    theirs = held("OLD-0009", holder="P999")
    with pytest.raises(RuleRefused):
        decide_exchange(request(SHIELDING, returned=[theirs], issued=[stock("NEW-0001")],
                                holdings=[], courier=True, override=LEAD_OVERRIDE,
                                allowance=CourierAllowance(3, 0)))


def test_a_courier_laptop_with_nothing_to_collect_is_issued_at_once():
    outcome = decide_exchange(request(SHIELDING, issued=[stock("NEW-0001")],
                                      holdings=[held("OLD-0002", holder="P200")], courier=True,
                                      override=LEAD_OVERRIDE, allowance=CourierAllowance(3, 0)))
    assert outcome.awaiting_collection == () and outcome.lost == ("OLD-0002",)
    assert {d.tag: d.state for d in outcome.changed}["NEW-0001"] is DeviceState.ISSUED
