"""Certify and release through the services on a real station: the gate, the review queue."""

from __future__ import annotations

import hashlib

import pytest

from app.domain.rules import RoleRefused, RuleRefused
from app.services import sanitisation as s
from app.services.sanitisation import CertificateRefused, Validation
from tests.certificates import reports
from tests.conftest import PINS

LEAD = Validation("L1", PINS["L1"])


def refused(bench, tag, path, validation=LEAD) -> CertificateRefused:
    with pytest.raises(CertificateRefused) as caught:
        s.certify_report(bench.ctx, bench.who("E1"), tag, path, validation)
    return caught.value


def test_signed_blancco_report_matching_serial_and_disk_certifies_and_keeps_the_file(bench):
    path = reports.blancco_raw(bench.folder / "r.xml")
    result = s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", path)
    assert result.record.certificate.signed and result.record.validated_by is None
    assert bench.state("OLD-0001") == "sanitised"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.name for p in bench.archived()] == [f"{sha}.xml"]
    assert bench.archived()[0].read_bytes() == path.read_bytes()
    names = {c["field"]: c["verdict"] for c in result.as_json()["checks"]}
    assert names["System serial"] == names["Disk WD-WX11A1234567"] == "match"
    assert names["Disk USB-BOOT-0001"] == "info"  # the boot stick is ignored


def test_unsigned_report_waits_in_review_until_a_second_person_validates(bench):
    path = reports.nwipe_pdf(bench.folder / "nwipe.pdf")
    before = bench.event_count()
    error = refused(bench, "OLD-0001", path, validation=None)
    assert error.error_code == "R6" and "second person" in error.user_message
    assert bench.state("OLD-0001") == "returned"
    assert [e.tag for e in s.review_queue(bench.ctx)] == ["OLD-0001"]
    assert bench.event_count() == before + 1  # the review entry, nothing else
    result = s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", path, LEAD)
    assert result.record.validated_by == "L1" and bench.state("OLD-0001") == "sanitised"
    assert s.review_queue(bench.ctx) == []  # resolved by the accepted certificate


def test_the_operator_cannot_validate_their_own_certificate(bench):
    path = reports.nwipe_pdf(bench.folder / "nwipe.pdf")
    with pytest.raises(RuleRefused, match="second person"):
        s.certify_report(bench.ctx, bench.who("L1"), "OLD-0001", path, LEAD)


def test_the_same_report_can_never_certify_a_second_device(bench):
    path = reports.blancco_raw(bench.folder / "r.xml", system_serial="5CG1234ABC")
    s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", path)
    error = refused(bench, "OLD-0002", path)
    assert "already certified OLD-0001" in error.user_message
    assert bench.state("OLD-0002") == "returned"
    again = s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", path)
    assert again.already_recorded  # the same file for the same device is not a new record


def test_a_report_with_one_disk_of_two_is_refused(bench):
    path = reports.usody_json(bench.folder / "one.json", serial="S3Z9NB0K123456")
    error = refused(bench, "OLD-0002", path)
    assert "Disk S3Z9NB0K999999: this internal disk is not in the report" in error.user_message
    assert bench.state("OLD-0002") == "returned"
    assert s.review_queue(bench.ctx, "OLD-0002")[0].reasons == error.assessment.reasons


def test_the_bridge_serial_of_a_usb_dock_never_matches_the_disk(bench):
    from app.services.sanitisation import record_known_disks
    record_known_disks(bench.ctx, bench.who("E1"), "OLD-0003", ("152D00539000",))
    path = reports.usody_json(bench.folder / "dock.json", serial="42T9CPEGT",
                              bridge="152D00539000")
    error = refused(bench, "OLD-0003", path)
    assert "Disk 152D00539000: this internal disk is not in the report" in error.user_message


def test_a_wipe_finished_before_the_device_came_back_does_not_count(bench):
    path = reports.blancco_raw(bench.folder / "old.xml", end_time="2020-01-10 11:58:47")
    error = refused(bench, "OLD-0001", path)
    assert "finished before the device was returned" in error.user_message


def test_anonymised_serials_never_match(bench):
    path = reports.nwipe_log(bench.folder / "quiet.txt", system_serial="XXXXXXXXXXXXXXX",
                             disks=(("sda", " Erased ", "WDC/XXXXXXXXXXXXXXX"),))
    error = refused(bench, "OLD-0001", path)
    assert "anonymised" in error.user_message


def test_a_failed_wipe_is_refused_and_the_device_stays_blocked(bench):
    path = reports.blancco_raw(bench.folder / "fail.xml", disks=(
        ("WD-WX11A1234567", "Failed", "SATA"),), failure="Write error at sector 4711")
    error = refused(bench, "OLD-0001", path)
    assert "Write error at sector 4711" in error.user_message
    with pytest.raises(RuleRefused, match="R6: OLD-0001 has no sanitisation certificate"):
        s.release(bench.ctx, bench.who("L1"), "OLD-0001", "reuse", "Hutton Primary")


def test_release_records_route_recipient_and_a_collection_for_the_batch(bench):
    for tag, serial in (("OLD-0001", "5CG1234ABC"), ("OLD-0003", "F4HQJLLCGRY8")):
        path = reports.blancco_raw(bench.folder / f"{tag}.xml", system_serial=serial,
                                   document_id=f"doc-{tag}", disks=(
                                       ("WD-WX11A1234567", "Successful", "SATA"),)
                                   if tag == "OLD-0001" else (("X1", "Successful", "NVMe"),))
        s.certify_report(bench.ctx, bench.who("E1"), tag, path)
    lead = bench.who("L1")
    first = s.release(bench.ctx, lead, "OLD-0001", "reuse", "Hutton Primary School")
    second = s.release(bench.ctx, lead, "OLD-0003", "reuse", "Hutton Primary School")
    assert first.collection == second.collection and first.collection.startswith("REUSE-HQ-01-")
    assert bench.state("OLD-0001") == "redistributed"
    with pytest.raises(RuleRefused, match="R6: OLD-0001 is redistributed"):
        s.release(bench.ctx, lead, "OLD-0001", "weee", "Recycler")


def test_an_engineer_may_certify_but_not_release(bench):
    s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001",
                     reports.blancco_raw(bench.folder / "r.xml"))
    with pytest.raises(RoleRefused):
        s.release(bench.ctx, bench.who("E1"), "OLD-0001", "reuse", "School")


def test_weee_physical_destruction_is_recorded_with_its_own_certificate(bench):
    result = s.certify_manual(bench.ctx, bench.who("E1"), "OLD-0002", "destruction",
                              "Shred-it HDD crusher", "DC-2030-0042",
                              ("S3Z9NB0K123456", "S3Z9NB0K999999"), LEAD)
    assert result.record.certificate.physical_destruction
    with pytest.raises(RuleRefused, match="physically destroyed"):
        s.release(bench.ctx, bench.who("L1"), "OLD-0002", "reuse", "School")
    done = s.release(bench.ctx, bench.who("L1"), "OLD-0002", "weee", "Essex WEEE Ltd",
                     transfer_note="WTN-778812")
    assert done.transfer_note == "WTN-778812" and bench.state("OLD-0002") == "disposed"


def test_manual_entry_needs_the_disks_of_the_device(bench):
    with pytest.raises(CertificateRefused, match="S3Z9NB0K999999"):
        s.certify_manual(bench.ctx, bench.who("E1"), "OLD-0002", "crypto-erase",
                         "nvme-cli 2.8", "NVME-0001", ("S3Z9NB0K123456",), LEAD)


def test_a_device_that_is_not_returned_is_not_certified(bench):
    with pytest.raises(RuleRefused, match="OLD-0009 is issued"):
        s.certify_report(bench.ctx, bench.who("E1"), "OLD-0009",
                         reports.blancco_raw(bench.folder / "r.xml", system_serial="5CG0000009"))
