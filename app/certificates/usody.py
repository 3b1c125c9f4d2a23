"""usody-sanitize (eReuse) JSON reports.

`device_info{manufacturer, model, serial_number, connector, export_data{block, smart}}`,
`method{name, standard, removal_process, ...}`, `steps[{start_time, end_time, success}]`,
`validation{result}`, `result`, `version`. Over a USB dock `device_info.serial_number` is the
USB bridge's serial (the real sample: `152D00539000` where SMART says `42T9CPEGT`), so the
disk's serial is SMART's; other serials are kept but never matched.
"""

from __future__ import annotations

import json

from app.certificates.files import ReportFile, as_int, first, from_epoch, method_category
from app.domain.sanitisation import Certificate, Outcome, SanitisedDisk

READER = "usody-json"
VERSION = "1.0"
MEDIA_TYPE = "application/json"


def looks_like_usody(data: object) -> bool:
    return isinstance(data, dict) and "device_info" in data and (
        "result" in data or "steps" in data)


def read_usody(report: ReportFile) -> Certificate:
    data = load_json(report)
    if not looks_like_usody(data):
        raise report.refuse("a JSON file, but not a usody-sanitize report (no device_info and "
                            "result)")
    info = _dict(data.get("device_info"))
    smart = _dict(_dict(info.get("export_data")).get("smart"))
    block = _dict(_dict(info.get("export_data")).get("block"))
    disk = _disk(info, smart, block, data)
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
    starts = [t for t in (from_epoch(s.get("start_time")) for s in steps) if t]
    ends = [t for t in (from_epoch(s.get("end_time")) for s in steps) if t]
    method = _dict(data.get("method"))
    name = first(method.get("name"), method.get("standard"))
    category = method_category(" ".join(
        first(method.get(k)) for k in ("name", "standard", "removal_process")))
    started = min(starts) if starts else None
    return Certificate(
        certificate_id=f"usody:{disk.serial or '?'}:"
        + (started.strftime("%Y%m%dT%H%M%S") if started else report.sha256[:12]),
        system_serial="", disks=(disk,), passed=disk.passed, source="usody",
        tool="usody-sanitize", tool_version=first(data.get("version")),
        method=" / ".join(p for p in (name, first(method.get("removal_process"))) if p),
        method_category=category, outcome_raw=f"result {str(data.get('result')).lower()}",
        failure_message=disk.note if not disk.passed else "", started_at=started,
        finished_at=max(ends) if ends else None,
        origin=report.origin(MEDIA_TYPE, READER, VERSION))


def load_json(report: ReportFile) -> object:
    try:
        return json.loads(report.text())
    except json.JSONDecodeError as exc:
        raise report.refuse(f"the JSON is malformed or truncated (line {exc.lineno}, column "
                            f"{exc.colno})") from None
    except RecursionError:
        raise report.refuse("the JSON is nested too deeply to be a report") from None


def _disk(info: dict, smart: dict, block: dict, data: dict) -> SanitisedDisk:
    via_usb = "usb" in first(info.get("connector"), block.get("tran")).lower()
    reported = first(info.get("serial_number"))
    serial = first(smart.get("serial_number")) or ("" if via_usb else reported)
    others = tuple(sorted({s for s in (reported, first(block.get("serial"))) if s} - {serial}))
    outcome, why = _outcome(data)
    if not serial:
        why = (why + "; " if why else "") + "no SMART serial, and the USB bridge's serial is " \
              "not the disk's"
    capacity = _dict(smart.get("user_capacity")).get("bytes")
    return SanitisedDisk(
        serial=serial, model=first(smart.get("model_name"), info.get("model")),
        vendor=first(info.get("manufacturer")),
        interface=first(_dict(smart.get("device")).get("protocol"), block.get("tran")),
        capacity_bytes=as_int(capacity), outcome=outcome,
        outcome_raw=f"result {str(data.get('result')).lower()}", other_serials=others, note=why)


def _outcome(data: dict) -> tuple[Outcome, str]:
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
    problems = []
    if data.get("result") is not True:
        problems.append("the tool reports result false")
    if not steps:
        problems.append("no erasure step ran")
    elif not all(s.get("success") is True for s in steps):
        problems.append("an erasure step failed")
    validation = _dict(data.get("validation"))
    if validation and validation.get("result") is not True:
        problems.append("the validation failed")
    return (Outcome.FAIL, "; ".join(problems)) if problems else (Outcome.PASS, "")


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}
