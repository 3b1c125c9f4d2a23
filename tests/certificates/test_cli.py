"""The certify, release, disks and certificates commands: exit codes and JSON (PRODUCT.md)."""

from __future__ import annotations

import csv
import json

import pytest

from app.cli import main
from tests.certificates import reports
from tests.conftest import PINS


@pytest.fixture
def run(bench, capsys, monkeypatch):
    def call(*argv: str, operator: str = "E1", lead: str | None = None):
        monkeypatch.setenv("EXCHANGE_PIN", PINS[operator])
        if lead:
            monkeypatch.setenv("EXCHANGE_LEAD_PIN", PINS[lead])
        else:
            monkeypatch.delenv("EXCHANGE_LEAD_PIN", raising=False)
        code = main(["--data-dir", str(bench.ctx.config.data_dir), "--json", "--operator",
                     operator, *argv])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None
    return call


def test_certify_a_matching_signed_report_exits_0_with_its_checks(run, bench):
    code, out = run("certify", "OLD-0001", "--file",
                    str(reports.blancco_raw(bench.folder / "r.xml")))
    assert code == 0 and out["certified"] == "OLD-0001" and out["passed"] is True
    assert {c["field"]: c["verdict"] for c in out["checks"]}["System serial"] == "match"


def test_an_unreadable_certificate_exits_4(run, bench):
    path = bench.folder / "bomb.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    code, out = run("certify", "OLD-0001", "--file", str(path))
    assert code == 4 and out["error"]["code"] == "input"


def test_a_report_that_does_not_match_exits_3_and_waits_for_review(run, bench):
    path = reports.blancco_raw(bench.folder / "r.xml", system_serial="5CG9999999")
    code, out = run("certify", "OLD-0001", "--file", str(path))
    assert code == 3 and out["error"]["code"] == "R6"
    assert "review queue" in out["error"]["message"]
    code, out = run("certificates", "--status", "review", operator="L1")
    assert code == 0 and [r["asset_tag"] for r in out["rows"]] == ["OLD-0001"]
    assert "System serial" in out["rows"][0]["reasons"]


def test_an_unsigned_report_needs_validated_by(run, bench):
    path = str(reports.nwipe_pdf(bench.folder / "n.pdf"))
    assert run("certify", "OLD-0001", "--file", path)[0] == 3
    code, out = run("certify", "OLD-0001", "--file", path, "--validated-by", "L1", lead="L1")
    assert code == 0 and out["validated_by"] == "L1"


def test_a_wrong_validator_pin_exits_3_auth(run, bench, monkeypatch):
    path = str(reports.nwipe_pdf(bench.folder / "n.pdf"))
    monkeypatch.setenv("EXCHANGE_PIN", PINS["E1"])
    monkeypatch.setenv("EXCHANGE_LEAD_PIN", "9999")
    code = main(["--data-dir", str(bench.ctx.config.data_dir), "--operator", "E1", "certify",
                 "OLD-0001", "--file", path, "--validated-by", "L1"])
    assert code == 3


@pytest.mark.parametrize("argv", [
    ("certify", "OLD-0001"),
    ("certify", "OLD-0001", "--manual", "--method", "overwrite"),
    ("certify", "OLD-0001", "--file", "x.xml", "--manual"),
    ("release", "OLD-0001", "--route", "landfill", "--to", "X")])
def test_usage_errors_exit_2(run, argv):
    assert run(*argv)[0] == 2


def test_manual_certificate_and_weee_release_with_transfer_note(run):
    code, out = run("certify", "OLD-0002", "--manual", "--method", "crypto-erase", "--tool",
                    "nvme-cli 2.8", "--certificate-id", "NV-0042", "--disk-serial",
                    "S3Z9NB0K123456", "S3Z9NB0K999999", "--validated-by", "L1", lead="L1")
    assert code == 0 and out["source"] == "manual"
    code, out = run("release", "OLD-0002", "--route", "weee", "--to", "Essex WEEE Ltd",
                    "--transfer-note", "WTN-1", operator="L1")
    assert code == 0 and out["transfer_note"] == "WTN-1" and out["route"] == "weee"


def test_release_without_a_certificate_exits_3_r6_and_needs_a_lead(run):
    assert run("release", "OLD-0001", "--route", "reuse", "--to", "School")[1]["error"][
        "code"] == "role"
    code, out = run("release", "OLD-0001", "--route", "reuse", "--to", "School", operator="L1")
    assert code == 3 and out["error"]["code"] == "R6"


def test_release_and_the_register_as_csv(run, bench, tmp_path):
    run("certify", "OLD-0001", "--file", str(reports.blancco_raw(bench.folder / "r.xml")))
    code, out = run("release", "OLD-0001", "--route", "reuse", "--to", "Hutton Primary",
                    operator="L1")
    assert code == 0 and out["released"] == "OLD-0001" and out["collection"]
    target = tmp_path / "register.csv"
    code, out = run("certificates", "--route", "reuse", "--csv", str(target), operator="L1")
    assert code == 0 and out["count"] == 1
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows[0]["asset_tag"] == "OLD-0001" and rows[0]["status"] == "released"
    assert rows[0]["recipient"] == "Hutton Primary" and len(rows[0]["sha256"]) == 64
    assert run("certificates", operator="E1")[1]["error"]["code"] == "role"
    assert run("certificates", "--from", "2020-13-01", operator="L1")[0] == 4


def test_disks_command_records_the_serials(run):
    code, out = run("disks", "OLD-0003", "--serial", "WD-1234", "--uuid", "4C4C-0001")
    assert code == 0 and out["known_disks"] == ["WD-1234"]
    assert run("disks", "OLD-0003", "--serial", "XXXXXXXX")[0] == 4
