"""Readers for erasure reports: each turns one file into the domain `Certificate`.

    report = read_certificate_file(path)      # ReadReport(certificate, file)

The format is told by the content, not the file name: `%PDF` is an nwipe certificate, XML a
Blancco report (raw or flattened), JSON a usody-sanitize report, `[YYYY/MM/DD ...]` lines an
nwipe log. Anything else, or anything broken, is refused with `UnreadableReport` (exit 4) and
nothing is recorded. Manual entries come through `manual.manual_certificate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.certificates.blancco import read_blancco
from app.certificates.files import (MAX_REPORT_BYTES, ReportFile, UnreadableReport,
                                    load_report_file)
from app.certificates.nwipe_log import looks_like_nwipe_log, read_nwipe_log
from app.certificates.nwipe_pdf import read_nwipe_pdf
from app.certificates.usody import read_usody
from app.domain.sanitisation import Certificate

__all__ = ["MAX_REPORT_BYTES", "ReadReport", "ReportFile", "UnreadableReport",
           "read_certificate_file", "read_report"]

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class ReadReport:
    certificate: Certificate
    file: ReportFile


def read_certificate_file(path: Path) -> ReadReport:
    report = load_report_file(path)
    return ReadReport(read_report(report), report)


def read_report(report: ReportFile) -> Certificate:
    kind = _kind(report.content)
    if kind == "pdf":
        return read_nwipe_pdf(report)
    if kind == "xml":
        return read_blancco(report)
    if kind == "json":
        return read_usody(report)
    if looks_like_nwipe_log(report.text()):
        return read_nwipe_log(report)
    raise report.refuse("not a sanitisation report this station reads (Blancco XML, nwipe PDF "
                        "or log, usody-sanitize JSON); for other tools use certify --manual")


def _kind(content: bytes) -> str:
    if content.lstrip()[:5] == b"%PDF-":
        return "pdf"
    body = content
    for bom in _BOMS:
        if body.startswith(bom):
            body = body[len(bom):]
            break
    head = body[:400].replace(b"\x00", b"").lstrip()
    if head.startswith(b"<"):
        return "xml"
    if head.startswith(b"{") or (head.startswith(b"[") and not re.match(rb"\[\d{4}/", head)):
        return "json"
    return "text"
