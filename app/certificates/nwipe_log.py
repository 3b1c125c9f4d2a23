"""nwipe / ShredOS log files (`--logfile`; ShredOS names them `nwipe_log_YYYYmmdd-HHMMSS.txt`).

Lines are `[YYYY/MM/DD HH:MM:SS] <level>: message` (old versions write `nwipe: notice:`). The
DMI lines give the host (`system-serial-number = ...`, `system-uuid = ...`); the run ends with
the "Drive Status" table, one row per disk, `Model/Serial Number` last (the model cut to 17
characters, so the serial is what matches). A leading `!` flags a problem with that disk.
"""

from __future__ import annotations

import re

from app.certificates.files import ReportFile, first, method_category, parse_time
from app.certificates.nwipe_common import nwipe_outcome, nwipe_report_id
from app.domain.sanitisation import Certificate, Outcome, SanitisedDisk

READER = "nwipe-log"
VERSION = "1.0"
MEDIA_TYPE = "text/plain"

_LINE = re.compile(r"^\[(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)\]\s*(?:nwipe:\s*)?(\w+):\s?(.*)$")
_DMI = re.compile(r"\b(system-serial-number|system-uuid|system-product-name|"
                  r"system-manufacturer)\s*=\s*(.*?)\s*$")
_METHOD = re.compile(r"[Mm]ethod\s*'([^']+)'|Invoking method\s+(.+?)\s+on\b")
_SUMMARY = re.compile(r"Total Throughput[^,]*,\s*([^,]+?)\s*,")
_VERSION = re.compile(r"nwipe\s+(?:version\s+)?v?(\d+\.\d+[\w.\-]*)", re.IGNORECASE)


def looks_like_nwipe_log(text: str) -> bool:
    head = text[:20000]
    return bool(re.search(r"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\]", head, re.MULTILINE)) and (
        "nwipe" in head.lower() or "Drive Status" in text)


def read_nwipe_log(report: ReportFile) -> Certificate:
    text = report.text()
    if "\x00" in text:
        raise report.refuse("the log contains binary data: not an nwipe log")
    lines = text.splitlines()
    stamped = [m for m in (_LINE.match(line) for line in lines) if m]
    if not stamped:
        raise report.refuse("not an nwipe log (no `[YYYY/MM/DD HH:MM:SS]` lines)")
    rows = _status_rows(lines)
    if not rows:
        raise report.refuse("the nwipe log has no Drive Status summary: the wipe did not finish "
                            "or the log is incomplete")
    dmi = {m.group(1): m.group(2) for m in (_DMI.search(s.group(3)) for s in stamped) if m}
    disks = tuple(_disk(row) for row in rows)
    finished = parse_time(stamped[-1].group(1))
    method = _method(text)
    failed = [d for d in disks if not d.passed]
    return Certificate(
        certificate_id=nwipe_report_id(disks[0].serial, finished),
        system_serial=first(dmi.get("system-serial-number")), disks=disks,
        passed=not failed, source="nwipe", system_uuid=first(dmi.get("system-uuid")),
        system_model=" ".join(p for p in (first(dmi.get("system-manufacturer")),
                                          first(dmi.get("system-product-name"))) if p),
        tool="nwipe", tool_version=_version(text), method=method,
        method_category=method_category(method),
        outcome_raw=", ".join(sorted({d.outcome_raw for d in disks})),
        failure_message="; ".join(f"disk {d.serial}: {d.note or d.outcome_raw}" for d in failed),
        started_at=parse_time(stamped[0].group(1)), finished_at=finished,
        origin=report.origin(MEDIA_TYPE, READER, VERSION))


def _status_rows(lines: list[str]) -> list[list[str]]:
    start = next((i for i, line in enumerate(lines) if "Drive Status" in line), None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("[") or (rows and not line.strip()):
            break
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 5 and "Model/Serial" not in line:
            rows.append(cells)
    return rows


def _disk(cells: list[str]) -> SanitisedDisk:
    flagged = cells[0].startswith("!")
    status = cells[1].strip("- ").upper() or cells[1]
    model, _, serial = cells[-1].rpartition("/")
    outcome, why = nwipe_outcome(status)
    if flagged and outcome is Outcome.PASS:
        outcome, why = Outcome.WARNING, "flagged '!' in the Drive Status table"
    return SanitisedDisk(serial=serial.strip(), model=model.strip(),
                         interface=cells[0].lstrip("! ").strip(), outcome=outcome,
                         outcome_raw=cells[1].strip(), note=why)


def _method(text: str) -> str:
    summary = _SUMMARY.search(text)
    if summary:
        return summary.group(1)
    found = _METHOD.search(text)
    return first(found.group(1), found.group(2)) if found else ""


def _version(text: str) -> str:
    found = _VERSION.search(text[:5000])
    return found.group(1) if found else ""
