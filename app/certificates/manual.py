"""Manual entry: a sanitisation (or a physical destruction) attested by the operator.

For tools that write no machine-readable report (hdparm, nvme-cli, Windows or Apple resets) and
for a WEEE contractor's certificate of destruction. The entry names the device it was made for,
the method, the tool, the certificate's own id and the disk serials; it is unsigned, so it
always needs a second person's validation. The entry itself is kept as canonical JSON, hashed
like any report file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from app.certificates.files import ReportFile, UnreadableReport
from app.domain.sanitisation import Certificate, MethodCategory, SanitisedDisk

READER = "manual-entry"
VERSION = "1.0"
MEDIA_TYPE = "application/json"

#: The methods an operator may name, and their NIST category.
METHODS: dict[str, MethodCategory] = {
    "overwrite": MethodCategory.CLEAR, "clear": MethodCategory.CLEAR,
    "block-erase": MethodCategory.PURGE, "crypto-erase": MethodCategory.PURGE,
    "secure-erase": MethodCategory.PURGE, "sanitize": MethodCategory.PURGE,
    "purge": MethodCategory.PURGE, "degauss": MethodCategory.PURGE,
    "destruction": MethodCategory.DESTRUCT, "physical-destruction": MethodCategory.DESTRUCT,
    "shredding": MethodCategory.DESTRUCT, "crushing": MethodCategory.DESTRUCT,
    "disintegration": MethodCategory.DESTRUCT, "incineration": MethodCategory.DESTRUCT,
}
_ID = re.compile(r"[\w][\w ./:#-]{0,99}")


@dataclass(frozen=True)
class ManualEntry:
    tag: str
    method: str
    tool: str
    certificate_id: str
    disk_serials: tuple[str, ...]
    operator_name: str = ""


def method_names() -> str:
    return ", ".join(METHODS)


def manual_certificate(entry: ManualEntry, recorded_at: datetime) -> tuple[Certificate,
                                                                           ReportFile]:
    """The entry as a certificate, and the entry as the 'file' that is kept and hashed."""
    method = entry.method.strip().lower().replace(" ", "-").replace("_", "-")
    if method not in METHODS:
        raise UnreadableReport(f"unknown sanitisation method '{entry.method[:40]}': use one of "
                               f"{method_names()}")
    certificate_id, tool = entry.certificate_id.strip(), entry.tool.strip()
    if not _ID.fullmatch(certificate_id):
        raise UnreadableReport("a manual certificate needs its certificate id (1 to 100 letters, "
                               "digits, spaces or . / : # - _)")
    if not tool or len(tool) > 100:
        raise UnreadableReport("a manual certificate needs the tool used, with its version "
                               "(at most 100 characters)")
    serials = tuple(s.strip() for s in entry.disk_serials if s.strip())
    if not serials:
        raise UnreadableReport("a manual certificate needs the serial of every disk sanitised "
                               "(--disk-serial S ...)")
    category = METHODS[method]
    content = json.dumps({"tag": entry.tag, "method": method, "tool": tool,
                          "certificate_id": certificate_id, "disk_serials": list(serials),
                          "operator": entry.operator_name}, sort_keys=True).encode()
    file = ReportFile(f"manual-{re.sub(r'[^A-Za-z0-9.-]', '_', certificate_id)}.json", content)
    destroyed = category is MethodCategory.DESTRUCT
    certificate = Certificate(
        certificate_id=certificate_id, system_serial="",
        disks=tuple(SanitisedDisk(s, outcome_raw="destroyed" if destroyed else "attested")
                    for s in serials),
        passed=True, physical_destruction=destroyed, source="manual", tool=tool,
        method=method, method_category=category.value,
        outcome_raw="destroyed" if destroyed else "attested", finished_at=recorded_at,
        operator_name=entry.operator_name, attested_tag=entry.tag,
        origin=file.origin(MEDIA_TYPE, READER, VERSION))
    return certificate, file
