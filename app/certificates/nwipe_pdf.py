"""nwipe / ShredOS single-disc PDF certificates, read through their text (pypdf).

nwipe's PDFGen writes plain `(text) Tj` streams: a grey label (`Serial:`) and then, mostly, its
value at the same height, so the page text is read as "label value" runs. The file is an
nwipe certificate when its /Info says so (Title "PDF Disk Erasure Certificate", Author "Nwipe")
or its page carries nwipe's title and footer. The PDF is unsigned and freely editable: it is
operator-attested evidence and always needs a second person's validation.
"""

from __future__ import annotations

import io
import logging
import re

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from app.certificates.files import ReportFile, first, method_category, parse_time
from app.certificates.nwipe_common import nwipe_outcome, nwipe_report_id
from app.domain.sanitisation import Certificate, SanitisedDisk

READER = "nwipe-pdf"
VERSION = "1.0"
MEDIA_TYPE = "application/pdf"

LABELS = (
    "Business Name:", "Business Address:", "Contact Name:", "Contact Phone:", "Name:",
    "Address:", "Make/Model:", "Serial:", "Bus:", "Size(Apparent):", "Size(Real):",
    "Start time:", "End time:", "Duration:", "Status:", "Method:", "PRNG algorithm:",
    "Final Pass(Zeros/Ones/None):", "Verify Pass(Last/All/None):", "*Bytes Erased:",
    "Rounds(completed/requested):", "HPA/DCO:", "HPA/DCO Size:", "Throughput:",
    "Errors(pass/sync/verify/retries):", "Errors(pass/sync/verify):", "Information:",
    "Name/ID:", "Signature:", "Disk Model:", "Disk S/N:", "System S/N:", "System uuid:", "Tag:",
)
_LABEL = re.compile("(" + "|".join(re.escape(label) for label in
                                                sorted(LABELS, key=len, reverse=True)) + ")")
_WARNINGS = ("hidden sectors NOT erased", "HPA/DCO data unavailable", "See Warning")


def read_nwipe_pdf(report: ReportFile) -> Certificate:
    text, info = _page_text(report)
    if not _is_nwipe(text, info):
        raise report.refuse("a PDF, but not an nwipe/ShredOS disk erasure certificate (no "
                            "nwipe title, author or certificate labels)")
    if "System Erasure Report" in text and "Make/Model:" not in text:
        raise report.refuse("an nwipe system (multi-disc) report: certify with the nwipe log "
                            "of that run, or with each disc's single-disc certificate")
    fields = label_values(text)
    serial = first(fields.get("Serial:"), fields.get("Disk S/N:"))
    if not serial or not first(fields.get("Status:")):
        raise report.refuse("an nwipe PDF without the disk serial or the erasure status: the "
                            "certificate is incomplete")
    warnings = tuple(w for w in _WARNINGS if w in text)
    status = first(fields.get("Status:")).split()[0]
    errors = first(fields.get("Errors(pass/sync/verify/retries):"),
                   fields.get("Errors(pass/sync/verify):"))
    outcome, failure = nwipe_outcome(status, errors, warnings)
    method = re.sub(r"\s*\((R|S)\)\s*$", "", first(fields.get("Method:")))
    finished = parse_time(fields.get("End time:"))
    disk = SanitisedDisk(
        serial=serial, model=first(fields.get("Make/Model:"), fields.get("Disk Model:")),
        interface=first(fields.get("Bus:")), outcome=outcome, outcome_raw=status,
        note=first(fields.get("Information:")))
    return Certificate(
        certificate_id=nwipe_report_id(serial, finished), system_serial=first(
            fields.get("System S/N:")), disks=(disk,), passed=disk.passed, source="nwipe",
        system_uuid=first(fields.get("System uuid:")), tool="nwipe",
        tool_version=_version(text), method=method, method_category=method_category(method),
        outcome_raw=status, failure_message=failure,
        started_at=parse_time(fields.get("Start time:")), finished_at=finished,
        operator_name=_technician(text, fields), warnings=warnings,
        origin=report.origin(MEDIA_TYPE, READER, VERSION))


def label_values(text: str) -> dict[str, str]:
    """Each label's value: the text after it up to the next label or the end of its line."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        found = list(_LABEL.finditer(line))
        for here, after in zip(found, found[1:] + [None]):
            value = line[here.end(): after.start() if after else len(line)].strip()
            if not values.get(here.group(1)):
                values[here.group(1)] = value
    return values


def _page_text(report: ReportFile) -> tuple[str, dict]:
    if not report.content.lstrip().startswith(b"%PDF"):
        raise report.refuse("not a PDF file (no %PDF header)")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(report.content), strict=False)
        if reader.is_encrypted:
            raise report.refuse("the PDF is encrypted: nwipe certificates never are")
        info = {k: str(v) for k, v in (reader.metadata or {}).items()}
        if not reader.pages:
            raise report.refuse("the PDF has no pages")
        return reader.pages[0].extract_text() or "", info
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        raise report.refuse(f"the PDF is damaged or truncated ({exc.__class__.__name__}): "
                            "save the certificate again") from None


def _is_nwipe(text: str, info: dict) -> bool:
    if info.get("/Title") == "PDF Disk Erasure Certificate" or info.get("/Author") == "Nwipe":
        return True
    return "Disc Erasure by NWIPE" in text or (
        "Erasure Report" in text and "Status:" in text and "Method:" in text)


def _version(text: str) -> str:
    match = re.search(r"NWIPE version\s+([\w.\-]+)", text, re.IGNORECASE)
    return match.group(1) if match else ""


def _technician(text: str, fields: dict[str, str]) -> str:
    """nwipe writes the Name/ID label, then the Signature label, then the name itself."""
    if fields.get("Name/ID:"):
        return fields["Name/ID:"]
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if "Signature:" in line:
            rest = [x.strip() for x in lines[index + 1:] if x.strip() and not _LABEL.search(x)]
            return rest[0] if rest and "NWIPE" not in rest[0].upper() else ""
    return ""
