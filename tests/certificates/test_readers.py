"""Each reader on files the tests write, and on the real samples when the shared folder exists."""

from __future__ import annotations

import hashlib
import json

import pytest

from app.certificates import read_certificate_file
from app.domain.sanitisation import Outcome
from tests.certificates import reports


def read(path):
    return read_certificate_file(path).certificate


# -- Blancco ---------------------------------------------------------------------------------

def test_blancco_raw_xml_reads_system_disks_signature_and_drops_the_usb_stick(tmp_path):
    c = read(reports.blancco_raw(tmp_path / "r.xml", uuid="4C4C-0001"))
    assert (c.certificate_id, c.source, c.system_serial, c.system_uuid) == (
        "d0c-0001", "blancco", "5CG1234ABC", "4C4C-0001")
    assert c.signed and c.passed and c.tool == "Blancco Drive Eraser" and c.tool_version == "7.9.1"
    assert (c.method, c.method_category) == ("NIST 800-88 Purge", "Purge")
    assert c.finished_at.isoformat() == "2030-01-10T11:58:47+00:00"
    assert [(d.serial, d.is_boot_media) for d in c.disks] == [
        ("WD-WX11A1234567", False), ("USB-BOOT-0001", True)]
    assert c.operator_name == "Eve Engineer"
    assert c.origin.reader == "blancco-xml" and c.origin.reader_version
    assert c.origin.sha256 == hashlib.sha256((tmp_path / "r.xml").read_bytes()).hexdigest()


def test_blancco_with_several_disks_fails_when_one_erasure_failed(tmp_path):
    c = read(reports.blancco_raw(tmp_path / "r.xml", disks=(
        ("D1", "Successful", "SATA"), ("D2", "Failed", "NVMe")), failure="Drive locked"))
    assert not c.passed and "Drive locked" in c.failure_message
    assert [d.outcome for d in c.disks if not d.is_boot_media] == [Outcome.PASS, Outcome.FAIL]


def test_blancco_without_signature_is_unsigned(tmp_path):
    assert not read(reports.blancco_raw(tmp_path / "r.xml", signed=False)).signed


def test_blancco_flattened_form_reads_the_same_fields(tmp_path):
    c = read(reports.blancco_flattened(tmp_path / "f.xml"))
    assert (c.system_serial, c.disk_serials, c.passed, c.signed) == (
        "F4HQJLLCGRY8", ("IMEI:353314074717628",), True, True)
    assert c.finished_at.isoformat() == "2030-01-10T10:58:47+09:00"  # the report's own zone


@pytest.mark.parametrize("sample", reports.sample_files("blancco5mobile*.xml"),
                         ids=lambda p: p.name)
def test_real_blancco_flattened_sample(sample):
    c = read(sample)
    assert c.certificate_id == "8b107935-e583-4aa8-b8d7-b37fa6dd1396"
    assert (c.system_serial, c.system_uuid) == ("F4HQJLLCGRY8",
                                                "7b860b4722f402de9f585638c3fb227fd635a981")
    assert (c.tool, c.tool_version, c.method) == ("Blancco 5 Mobile", "3.11", "Apple iOS erasure")
    assert c.passed and c.signed and c.outcome_raw == "Successful"
    assert c.disk_serials == ("IMEI:353314074717628",)
    assert c.started_at.isoformat() == "2020-01-10T10:52:06+09:00"
    assert c.finished_at.isoformat() == "2020-01-10T10:58:47+09:00"


@pytest.mark.parametrize("sample", reports.sample_files("blancco_bmc_export_request.xml"),
                         ids=lambda p: p.name)
def test_real_bmc_export_request_is_not_a_report(sample):
    with pytest.raises(Exception, match="not a Blancco erasure report"):
        read(sample)


# -- usody-sanitize --------------------------------------------------------------------------

def test_usody_prefers_the_smart_serial_over_the_usb_bridge(tmp_path):
    c = read(reports.usody_json(tmp_path / "u.json", serial="42T9CPEGT", bridge="152D00539000"))
    (disk,) = c.disks
    assert disk.serial == "42T9CPEGT" and disk.other_serials == ("152D00539000",)
    assert c.passed and not c.signed and c.system_serial == ""
    assert c.finished_at is not None and c.finished_at > c.started_at


@pytest.mark.parametrize("sample", reports.sample_files("usody_sanitize_*.json"),
                         ids=lambda p: p.name)
def test_real_usody_samples(sample):
    c = read(sample)
    raw = json.loads(sample.read_text())
    smart = raw["device_info"]["export_data"]["smart"]
    (disk,) = c.disks
    assert disk.serial == smart["serial_number"] and c.tool_version == "0.1.1-beta1"
    if raw["result"]:
        assert c.passed and disk.serial == "120312E2M3121K00UN6S"
        assert disk.capacity_bytes == 320072933376 and c.method_category == "Clear"
        assert c.finished_at.timestamp() == pytest.approx(1689987789.548, abs=1)
    else:  # the failed, empty run with the bridge-serial trap
        assert not c.passed and "no erasure step ran" in c.failure_message
        assert disk.serial == "42T9CPEGT" and disk.other_serials == ("152D00539000",)


# -- nwipe -----------------------------------------------------------------------------------

def test_nwipe_pdf_certificate_fields(tmp_path):
    c = read(reports.nwipe_pdf(tmp_path / "n.pdf", host_serial="5CG1234ABC"))
    (disk,) = c.disks
    assert (disk.serial, disk.model, disk.interface) == ("WD-WX11A1234567", "WDC WD5000LPLX-7",
                                                         "ATA")
    assert c.passed and c.outcome_raw == "ERASED" and not c.signed and c.source == "nwipe"
    assert (c.method, c.method_category, c.tool_version) == ("DoD Short", "Clear", "0.38")
    assert c.system_serial == "5CG1234ABC" and c.operator_name == "Eve Engineer"
    assert c.finished_at.strftime("%Y/%m/%d %H:%M:%S") == "2030/01/10 10:25:04"
    assert c.origin.media_type == "application/pdf"


@pytest.mark.parametrize("kwargs, outcome", [
    ({"status": "FAILED"}, Outcome.FAIL), ({"status": "ABORTED"}, Outcome.ABORTED),
    ({"hidden_warning": True}, Outcome.WARNING), ({"errors": "0/0/3"}, Outcome.WARNING)])
def test_nwipe_pdf_that_is_not_a_clean_erase_does_not_pass(tmp_path, kwargs, outcome):
    c = read(reports.nwipe_pdf(tmp_path / "n.pdf", **kwargs))
    assert not c.passed and c.disks[0].outcome is outcome and c.failure_message


def test_nwipe_verify_only_method_is_not_a_sanitisation(tmp_path):
    c = read(reports.nwipe_pdf(tmp_path / "n.pdf", method="Verify Zeros (0x00)"))
    assert c.method_category == "none"


def test_nwipe_log_reads_host_and_every_disk_of_the_summary(tmp_path):
    c = read(reports.nwipe_log(tmp_path / "nwipe_log.txt", disks=(
        ("sda", " Erased ", "WDC WD5000LPLX-7/WD-WX11A1234567"),
        ("nvme0n1", "-FAILED-", "Samsung SSD 970/S3Z9NB0K999999"))))
    assert c.system_serial == "5CG1234ABC" and c.system_uuid.startswith("4C4C4544")
    assert [(d.serial, d.outcome) for d in c.disks] == [
        ("WD-WX11A1234567", Outcome.PASS), ("S3Z9NB0K999999", Outcome.FAIL)]
    assert not c.passed and c.method == "DoD Short"


def test_nwipe_pdf_and_log_of_one_wipe_share_the_report_identity(tmp_path):
    pdf = read(reports.nwipe_pdf(tmp_path / "n.pdf", end="2030/01/10 10:25:10"))
    log = read(reports.nwipe_log(tmp_path / "n.txt"))
    assert pdf.certificate_id == log.certificate_id


# -- manual entry ----------------------------------------------------------------------------

def test_manual_entry_becomes_an_attested_certificate():
    from datetime import datetime, timezone

    from app.certificates.manual import ManualEntry, manual_certificate
    c, file = manual_certificate(ManualEntry("OLD-0001", "Crypto Erase", "nvme-cli 2.8",
                                             "NV-1", ("S1", " S2 ")), datetime.now(timezone.utc))
    assert (c.attested_tag, c.method, c.method_category, c.disk_serials) == (
        "OLD-0001", "crypto-erase", "Purge", ("S1", "S2"))
    assert c.passed and not c.signed and c.origin.sha256 == file.sha256
