"""The R6 gate on plain objects: matching field by field, and a property over event sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.devices import Device, DeviceState, DeviceType
from app.domain.sanitisation import (Certificate, DeviceEvidence, Outcome, Route, SanitisedDisk,
                                     Verdict, assess, is_anonymised, normalise_serial_for_match,
                                     release_violations)

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
DEVICE = Device("OLD-0001", "5CG-123 ab", DeviceType.LAPTOP, "EliteBook", "Windows 8.1",
                DeviceState.RETURNED)
DISKS = ("WD_WX11-A1", "S3Z9 NB0K")


def cert(**kw) -> Certificate:
    base = dict(certificate_id="R1", system_serial="5cg123AB",
                disks=(SanitisedDisk("wdwx11a1"), SanitisedDisk("S3Z9NB0K")), passed=True,
                finished_at=T0 + timedelta(hours=2), method="DoD Short", method_category="Clear")
    return Certificate(**(base | kw))


def verdicts(c: Certificate, **kw) -> dict[str, Verdict]:
    evidence = DeviceEvidence(DEVICE, kw.pop("known", DISKS), returned_at=T0, **kw)
    return {check.name: check.verdict for check in assess(c, evidence).checks}


@pytest.mark.parametrize("serial, expected", [
    (" 5cg-123_ab ", "5CG123AB"), ("XXXXXXXXXXXXXXX", ""), ("Unknown", ""), ("", ""),
    ("To be filled by O.E.M.", ""), ("Default string", ""), ("0000000000", ""),
    ("N/A", ""), ("42T9CPEGT", "42T9CPEGT")])
def test_serials_are_normalised_and_placeholders_never_match(serial, expected):
    assert normalise_serial_for_match(serial) == expected
    assert is_anonymised(serial) == (bool(serial.strip()) and not expected)


def test_every_field_matches_for_a_good_report():
    report = assess(cert(), DeviceEvidence(DEVICE, DISKS, returned_at=T0, validated=True))
    assert report.accepted and report.identified and report.reasons == ()


def test_usb_boot_media_are_shown_but_ignored():
    stick = SanitisedDisk("USB-STICK", interface="USB", outcome=Outcome.FAIL, is_boot_media=True)
    c = cert(disks=cert().disks + (stick,))
    assert verdicts(c)["Disk USB-STICK"] is Verdict.INFO
    assert assess(c, DeviceEvidence(DEVICE, DISKS, returned_at=T0)).accepted


def test_a_known_disk_listed_only_as_boot_media_does_not_count():
    c = cert(disks=(SanitisedDisk("wdwx11a1"), SanitisedDisk("S3Z9NB0K", is_boot_media=True)))
    assert verdicts(c)["Disk S3Z9 NB0K"] is Verdict.MISMATCH


def test_a_report_without_system_serial_needs_the_known_disks():
    c = cert(system_serial="")
    assert assess(c, DeviceEvidence(DEVICE, DISKS, returned_at=T0)).accepted
    nothing_known = assess(c, DeviceEvidence(DEVICE, (), returned_at=T0))
    assert not nothing_known.accepted and "Identity" in nothing_known.reasons[0]


def test_system_uuid_is_compared_when_the_station_knows_it():
    c = cert(system_uuid="4C4C-AAAA")
    assert verdicts(c, known_uuid="4c4c-aaaa")["System UUID"] is Verdict.MATCH
    assert verdicts(c, known_uuid="4C4C-BBBB")["System UUID"] is Verdict.MISMATCH
    assert verdicts(c)["System UUID"] is Verdict.INFO


def test_a_failed_disk_or_report_reused_or_unvalidated_is_refused():
    failed = cert(disks=(SanitisedDisk("wdwx11a1"), SanitisedDisk("S3Z9NB0K",
                                                                  outcome=Outcome.FAIL)))
    assert verdicts(failed)["Disk S3Z9 NB0K"] is Verdict.MISMATCH
    assert verdicts(cert(), certified_elsewhere="OLD-0002")["Report reuse"] is Verdict.MISMATCH
    assert verdicts(cert(), validated=False)["Validation"] is Verdict.MISMATCH
    assert "Validation" not in verdicts(cert(signed=True), validated=False)


def test_verification_only_methods_do_not_sanitise():
    assert verdicts(cert(method="Verify Zeros", method_category="none"))["Method"] \
        is Verdict.MISMATCH


def test_the_gate_checks_state_route_and_time():
    sanitised = replace(DEVICE, state=DeviceState.SANITISED)
    assert release_violations(sanitised, cert(), Route.REUSE, DISKS, T0) == []
    early = cert(finished_at=T0 - timedelta(minutes=1))
    assert "finished before" in release_violations(sanitised, early, Route.REUSE, DISKS,
                                                   T0)[0].message
    assert "not sanitised" in release_violations(DEVICE, cert(), Route.REUSE, DISKS, T0)[0].message


# -- the property ----------------------------------------------------------------------------

reports = st.builds(
    lambda offset, passed, serial, disks, destroyed: Certificate(
        certificate_id="R", system_serial=serial, disks=tuple(SanitisedDisk(d) for d in disks),
        passed=passed, physical_destruction=destroyed, finished_at=None if offset is None
        else T0 + timedelta(minutes=offset), method_category="Destruct" if destroyed else "Clear"),
    st.one_of(st.integers(1, 600), st.integers(-120, 0), st.none()),
    st.sampled_from([True, True, True, False]),
    st.sampled_from(["5CG123AB", "5cg-123 ab", "", "XXXXXXXX", "OTHER1", "Unknown"]),
    st.one_of(st.just(["wd-wx11-a1", "S3Z9NB0K"]), st.just(["S3Z9NB0K", "WDWX11A1", "ZZZ"]),
              st.lists(st.sampled_from(["WDWX11A1", "S3Z9NB0K", "XXXXXXXX", "ZZZ"]),
                       max_size=3)),
    st.booleans())
actions = st.lists(st.one_of(
    st.tuples(st.just("return"), st.integers(1, 300)),
    st.tuples(st.just("certify"), reports), st.tuples(st.just("certify"), reports),
    st.tuples(st.just("release"), st.sampled_from(list(Route)), st.sampled_from([0, 0, 1, 3]))),
    min_size=2, max_size=14)


def genuinely_certified(c: Certificate, device: Device, returned_at: datetime) -> bool:
    """The oracle, written apart from the gate: what R6 demands, in plain words."""
    norm = normalise_serial_for_match
    disks = {norm(d.serial) for d in c.disks}
    return (c.passed and c.finished_at is not None and c.finished_at > returned_at
            and not any(not norm(d.serial) for d in c.disks)
            and all(norm(k) in disks for k in DISKS)
            and (not c.system_serial or norm(c.system_serial) == norm(device.serial)))


@settings(max_examples=300, deadline=None)
@given(actions)
def test_no_sequence_releases_a_device_without_a_pass_certificate_after_its_latest_return(
        sequence):
    device, returned_at, now, offered = DEVICE, T0, T0, []
    for action in sequence:
        if device.state in (DeviceState.REDISTRIBUTED, DeviceState.DISPOSED):
            break
        if action[0] == "return":
            now += timedelta(minutes=action[1])
            device, returned_at = replace(device, state=DeviceState.RETURNED), now
        elif action[0] == "certify":
            c = replace(action[1], finished_at=action[1].finished_at and
                        action[1].finished_at + (now - T0))
            offered.append(c)
            if assess(c, DeviceEvidence(device, DISKS, returned_at=returned_at)).accepted:
                device = replace(device, state=DeviceState.SANITISED)
        elif offered:  # release with any certificate ever offered, good or bad
            route, pick = action[1], offered[-1 - action[2] % len(offered)]
            if not release_violations(device, pick, route, DISKS, returned_at):
                assert genuinely_certified(pick, device, returned_at)
                assert route is Route.WEEE or not pick.physical_destruction
                device = replace(device, state=DeviceState.DISPOSED if route is Route.WEEE
                                 else DeviceState.REDISTRIBUTED)
