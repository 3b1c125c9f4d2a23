"""Every bad file is refused with a clear message, and nothing at all is recorded."""

from __future__ import annotations

import json
import time

import pytest

from app.certificates import UnreadableReport
from app.services import sanitisation as s
from tests.certificates import reports
from tests.conftest import PINS

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<root><report><blancco_data>&lol9;</blancco_data></report></root>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<root><report><blancco_data><description><document_id>&secret;</document_id></description>
</blancco_data></report></root>"""


def _truncated_xml(folder):
    text = reports.blancco_raw(folder / "full.xml").read_text()
    return text[: len(text) // 2]


def _damaged_pdf(folder):
    data = reports.nwipe_pdf(folder / "full.pdf").read_bytes()
    return data[:200]


def _latin1_json(folder):
    data = json.loads(reports.usody_json(folder / "u.json").read_text())
    data["device_info"]["manufacturer"] = "Müller GmbH"
    return json.dumps(data, ensure_ascii=False).encode("latin-1")


def _latin1_xml(folder):
    return reports.blancco_raw(folder / "x.xml").read_text().replace(
        "Eve Engineer", "Zoë Ingénieur").encode("latin-1")


def _log_without_summary(folder):
    return "\n".join(reports.nwipe_log(folder / "l.txt").read_text().splitlines()[:4]) + "\n"


BAD = {
    "truncated.xml": (_truncated_xml, "malformed or truncated"),
    "malformed.xml": (lambda f: "<root><report><blancco_data></report></root>",
                      "malformed or truncated"),
    "bomb.xml": (lambda f: BOMB, "XML bomb"),
    "external-entity.xml": (lambda f: XXE, "DTD or entities"),
    "not-a-certificate.pdf": (lambda f: reports.simple_pdf(
        [("Invoice 4711", 50, 700), ("Total: 12.00", 50, 680)], {"Title": "Invoice"}),
        "not an nwipe/ShredOS disk erasure certificate"),
    "damaged.pdf": (_damaged_pdf, "PDF"),
    "not-a-pdf.pdf": (lambda f: b"%PDF-1.4\n" + bytes(range(256)) * 4, "PDF"),
    "latin1.json": (_latin1_json, "not UTF-8"),
    "latin1.xml": (_latin1_xml, "not UTF-8"),
    "other.json": (lambda f: json.dumps({"invoice": 1}), "not a usody-sanitize report"),
    "broken.json": (lambda f: '{"device_info": {"serial_number": ', "malformed or truncated"),
    "partial-log.txt": (_log_without_summary, "no Drive Status summary"),
    "notes.txt": (lambda f: "wiped it, honest\n", "not a sanitisation report"),
    "garbage.bin": (lambda f: bytes(range(1, 256)) * 10, "not"),
    "empty.xml": (lambda f: "  \n", "empty"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_file_is_refused_clearly_and_nothing_is_recorded(bench, name):
    make, message = BAD[name]
    content = make(bench.folder)
    path = bench.folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    before = bench.event_count()
    started = time.monotonic()
    with pytest.raises(UnreadableReport) as refused:
        s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", path)
    assert time.monotonic() - started < 5
    assert message in refused.value.user_message and name in refused.value.user_message
    assert refused.value.exit_code == 4
    assert (bench.event_count(), bench.archived(), s.review_queue(bench.ctx)) == (before, [], [])
    assert bench.state("OLD-0001") == "returned"


def test_a_200_mb_file_is_refused_before_it_is_read(bench):
    path = bench.folder / "huge.xml"
    with path.open("wb") as handle:  # sparse: no 200 MB is written
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(UnreadableReport, match="200 MB, more than the 16 MB"):
        s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", path)
    assert bench.archived() == [] and bench.state("OLD-0001") == "returned"


def test_a_missing_file_is_refused(bench):
    with pytest.raises(UnreadableReport, match="no such report file"):
        s.certify_report(bench.ctx, bench.who("E1"), "OLD-0001", bench.folder / "none.xml")


@pytest.mark.parametrize("sample", reports.sample_files("usody_sanitize_*152D00539000.json"),
                         ids=lambda p: p.name)
def test_the_real_failed_usody_run_is_refused_into_review(bench, sample):
    with pytest.raises(s.CertificateRefused) as refused:
        s.certify_report(bench.ctx, bench.who("E1"), "OLD-0003", sample,
                         s.Validation("L1", PINS["L1"]))
    assert "no erasure step ran" in refused.value.user_message
    assert bench.state("OLD-0003") == "returned"
    assert [e.filename for e in s.review_queue(bench.ctx)] == [sample.name]
