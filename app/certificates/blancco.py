"""Blancco erasure reports (Drive Eraser, 5, Mobile) in XML: the raw export and the flattened form.

Raw: `<root><report><blancco_data>` where every value is `<entry name="...">` and every group
`<entries name="...">`; a report may hold several erasures and disks, the USB boot stick among
them. Flattened (a third-party export, as in the real sample): one `<UNIT>` whose tags are the
dotted paths, e.g. `erasure.state`, `hardware.system.serial`, `description.document_id`.
Both become the same `Certificate`. Parsed with defusedxml with DTDs forbidden, so entity
expansion (an XML bomb) and external references are impossible.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from app.certificates.files import (ReportFile, as_int, first, method_category, parse_time)
from app.domain.sanitisation import Certificate, Outcome, SanitisedDisk

READER = "blancco-xml"
VERSION = "1.0"
MEDIA_TYPE = "application/xml"

_SIGNATURE = "document_log.log_entry.integrity"


def read_blancco(report: ReportFile) -> Certificate:
    root = parse_xml(report)
    if root.tag == "DATAWIPE":
        parts = _flattened_parts(report, root)
    elif root.tag == "root" or root.find(".//blancco_data") is not None:
        parts = _raw_parts(report, root)
    else:
        raise report.refuse(f"an XML file, but not a Blancco erasure report (its root element "
                            f"is <{root.tag[:40]}>)")
    return _certificate(report, *parts)


def parse_xml(report: ReportFile) -> Element:
    try:
        return safe_xml.fromstring(report.content, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except DefusedXmlException:
        raise report.refuse("the XML declares a DTD or entities, which an erasure report never "
                            "does; refused, because entity expansion (an XML bomb) or external "
                            "references could be hidden there") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        if _declared_utf8(report.content):
            report.text()  # refuses bytes that are not UTF-8 with a clearer message
        raise report.refuse(f"the XML is malformed or truncated (line {line}, column {column}"
                            "); export the report again") from None


def _declared_utf8(content: bytes) -> bool:
    match = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([\w.-]+)", content.lstrip(b"\xef\xbb\xbf"))
    return match is None or match.group(1).lower() in (b"utf-8", b"utf8")


# -- the two shapes, as (description, system, erasures, hardware disks, user fields) ---------

Parts = tuple[dict, dict, list[dict], list[dict], dict]


def _raw_parts(report: ReportFile, root: Element) -> Parts:
    reports = root.findall("report") if root.tag == "root" else [root]
    if len(reports) != 1:
        raise report.refuse(f"the file holds {len(reports)} reports: export one report per "
                            "device")
    data = reports[0].find(".//blancco_data")
    if data is None:
        raise report.refuse("a Blancco XML file without <blancco_data>: not an erasure report")
    description = _flatten(data.find("description"))
    hardware = data.find("blancco_hardware_report")
    system = _flatten(_group(hardware, "system"))
    erasure_report = data.find("blancco_erasure_report")
    erasures = [_flatten(e) for e in _groups(erasure_report, "erasure")]
    disks = [_flatten(d) for d in _groups(hardware, "disk")]
    user = {k.removeprefix("fields."): v for k, v in _flatten(reports[0].find("user_data")).items()}
    return description, system, erasures, disks, user


def _flattened_parts(report: ReportFile, root: Element) -> Parts:
    units = root.findall("UNIT")
    if len(units) != 1:
        raise report.refuse(f"the file holds {len(units)} reports (<UNIT>): export one report "
                            "per device")
    values = {child.tag: (child.text or "").strip() for child in units[0]}

    def section(prefix: str) -> dict:
        return {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
    erasure, disk = section("erasure."), section("disk.")
    return (section("description."), section("hardware.system."), [erasure] if erasure else [],
            [disk] if disk else [], section("user_data.fields."))


def _flatten(element: Element | None, prefix: str = "") -> dict[str, str]:
    values: dict[str, str] = {}
    if element is None:
        return values
    for child in element:
        name = child.get("name", child.tag) if child.tag in ("entries", "entry") else child.tag
        key = f"{prefix}.{name}" if prefix else name
        if len(child):
            for sub_key, value in _flatten(child, key).items():
                values.setdefault(sub_key, value)
        else:
            values.setdefault(key, (child.text or "").strip())
    return values


def _groups(parent: Element | None, name: str) -> list[Element]:
    return [] if parent is None else parent.findall(f".//entries[@name='{name}']")


def _group(parent: Element | None, name: str) -> Element | None:
    found = _groups(parent, name)
    return found[0] if found else None


# -- the certificate -------------------------------------------------------------------------

def _certificate(report: ReportFile, description: dict, system: dict, erasures: list[dict],
                 hardware_disks: list[dict], user: dict) -> Certificate:
    report_id = first(description.get("document_id"))
    if not report_id and not erasures:
        raise report.refuse("a Blancco file with neither a document id nor an erasure: not an "
                            "erasure report")
    zone = next((t.tzinfo for t in (parse_time(e.get("timestamp")) for e in erasures)
                 if t and t.tzinfo), None)
    erased = [_erased_disk(e) for e in erasures]
    targets = {d.serial for d in erased}
    untouched = [_untouched_disk(d) for d in hardware_disks if first(d.get("serial")) not in targets]
    disks = tuple(erased + untouched)
    internal = [d for d in disks if not d.is_boot_media]
    states = sorted({first(e.get("state")) for e in erasures} - {""})
    starts = [t for t in (parse_time(e.get("start_time"), zone) for e in erasures) if t]
    ends = [t for t in (parse_time(e.get("end_time"), zone) for e in erasures) if t]
    methods = sorted({first(e.get("erasure_standard_name")) for e in erasures} - {""})
    signature = first(description.get(_SIGNATURE))
    return Certificate(
        certificate_id=report_id or report.sha256[:16], system_serial=first(system.get("serial")),
        disks=disks, passed=bool(internal) and all(d.passed for d in internal),
        source="blancco", signed=bool(signature), signature=signature,
        system_uuid=first(system.get("uuid")),
        system_model=" ".join(p for p in (first(system.get("manufacturer")),
                                          first(system.get("model"), system.get("name"))) if p),
        tool=first(description.get("document_log.log_entry.author.product_name"), "Blancco"),
        tool_version=first(description.get("document_log.log_entry.author.product_version")),
        method=", ".join(methods), method_category=_category(methods),
        outcome_raw=", ".join(states) or "no erasure",
        failure_message=_failure(erasures, internal),
        started_at=min(starts) if starts else None, finished_at=max(ends) if ends else None,
        operator_name=first(user.get("erasure_person"), user.get("operator"),
                            description.get("description_entries.company_information."
                                            "erasure_person")),
        origin=report.origin(MEDIA_TYPE, READER, VERSION))


def _erased_disk(erasure: dict) -> SanitisedDisk:
    state = first(erasure.get("state"))
    lowered = state.lower()
    outcome = (Outcome.PASS if lowered == "successful" else
               Outcome.ABORTED if "abort" in lowered or "cancel" in lowered else Outcome.FAIL)
    interface = first(erasure.get("target.interface_type"), erasure.get("target.type"))
    return SanitisedDisk(
        serial=first(erasure.get("target.serial")), model=first(erasure.get("target.model")),
        vendor=first(erasure.get("target.vendor")), interface=interface,
        capacity_bytes=as_int(erasure.get("target.capacity")), outcome=outcome,
        outcome_raw=state or "no state", is_boot_media=interface.upper() == "USB",
        note=first(erasure.get("erasure_details.failure.message")))


def _untouched_disk(disk: dict) -> SanitisedDisk:
    interface = first(disk.get("interface_type"))
    usb = interface.upper() == "USB"
    return SanitisedDisk(
        serial=first(disk.get("serial")), model=first(disk.get("model")),
        vendor=first(disk.get("vendor")), interface=interface,
        capacity_bytes=as_int(disk.get("capacity")),
        outcome=Outcome.PASS if usb else Outcome.FAIL,
        outcome_raw="boot media" if usb else "not erased", is_boot_media=usb,
        note="" if usb else "listed in the hardware report but not erased")


def _category(methods: list[str]) -> str:
    categories = {method_category(m) for m in methods}
    for worst in ("none", "Clear", "Purge", "Destruct"):
        if worst in categories:
            return worst
    return ""


def _failure(erasures: list[dict], internal: list[SanitisedDisk]) -> str:
    if not internal:
        return "the report erased no internal disk"
    messages = [first(e.get("erasure_details.failure.message")) for e in erasures]
    failed = [d for d in internal if not d.passed]
    text = "; ".join(m for m in messages if m)
    if failed and not text:
        text = "; ".join(f"disk {d.serial or '?'}: {d.outcome_raw}" for d in failed)
    return text if failed else ""
