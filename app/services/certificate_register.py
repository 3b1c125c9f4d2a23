"""The certificate register: every certificate recorded and every report in review, with where
each device went; filtered by site, date, route and status, and exported as CSV.

Status: `certified` (recorded, device not yet released), `released` (it left; see route),
`review` (a refused report waiting in the review queue), `resolved` (a refused report later
superseded by an accepted certificate). Dates filter on the day the certificate or the review
entry was recorded (the station's local date).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.domain.people import Operator, Permission
from app.domain.rules import BadInput
from app.services.context import ServiceContext

COLUMNS = ("asset_tag", "serial", "model", "site", "status", "route", "recipient", "collection",
           "transfer_note", "released_at", "certificate", "report_id", "source", "tool",
           "tool_version", "method", "method_category", "outcome", "physical_destruction",
           "finished_at", "recorded_at", "recorded_by", "validated_by", "filename", "sha256",
           "reader", "reasons")
STATUSES = ("certified", "released", "review", "resolved")
ROUTES = ("reuse", "weee")


@dataclass(frozen=True)
class RegisterFilter:
    site: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    route: str | None = None
    status: str | None = None

    def checked(self) -> "RegisterFilter":
        for text in (self.date_from, self.date_to):
            if text:
                try:
                    date.fromisoformat(text)
                except ValueError:
                    raise BadInput(f"'{text}' is not a date: use YYYY-MM-DD") from None
        if self.route and self.route not in ROUTES:
            raise BadInput(f"unknown route '{self.route}': use {' or '.join(ROUTES)}")
        if self.status and self.status not in STATUSES:
            raise BadInput(f"unknown status '{self.status}': use {', '.join(STATUSES)}")
        return self


def certificate_register(ctx: ServiceContext, actor: Operator,
                         filters: RegisterFilter = RegisterFilter()) -> list[dict]:
    actor.require(Permission.REPORT)
    f = filters.checked()
    with ctx.uow_factory(write=False) as uow:
        rows = [_certificate_line(*r) for r in uow.certificates.register(
            f.site, f.date_from, f.date_to)]
        if not f.route:
            rows += [_review_line(*r) for r in uow.certificates.review_rows(
                f.site, f.date_from, f.date_to)]
    return [r for r in rows if (not f.status or r["status"] == f.status)
            and (not f.route or r["route"] == f.route)]


def export_register_csv(rows: list[dict], path: Path) -> int:
    """Write `rows` as CSV (UTF-8, header first); returns the number of rows written."""
    try:
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from None
    return len(rows)


def _certificate_line(cert, device, release) -> dict:  # noqa: ANN001 - persistence rows
    return {
        "asset_tag": cert.asset_tag, "serial": device.serial, "model": device.model,
        "site": cert.site, "status": "released" if release else "certified",
        "route": release.route if release else "", "recipient": release.recipient if release
        else "", "collection": release.collection_ref if release else "",
        "transfer_note": (release.transfer_note or "") if release else "",
        "released_at": release.released_at if release else "", "certificate": cert.id,
        "report_id": cert.report_id, "source": cert.source, "tool": cert.tool,
        "tool_version": cert.tool_version, "method": cert.method,
        "method_category": cert.method_category, "outcome": cert.outcome_raw,
        "physical_destruction": "yes" if cert.physical_destruction else "no",
        "finished_at": cert.finished_at or "", "recorded_at": cert.recorded_at,
        "recorded_by": cert.recorded_by, "validated_by": cert.validated_by or "",
        "filename": cert.filename, "sha256": cert.sha256,
        "reader": f"{cert.reader} {cert.reader_version}", "reasons": ""}


def _review_line(review, device) -> dict:  # noqa: ANN001 - persistence rows
    line = dict.fromkeys(COLUMNS, "")
    line.update({
        "asset_tag": review.asset_tag, "serial": device.serial, "model": device.model,
        "site": review.site, "status": "review" if review.status == "open" else "resolved",
        "report_id": review.report_id, "source": review.source,
        "recorded_at": review.created_at, "recorded_by": review.operator,
        "filename": review.filename, "sha256": review.sha256,
        "reasons": "; ".join(json.loads(review.reasons))})
    return line


def _cell(value: object) -> str:
    """A cell as text; one that a spreadsheet would run as a formula is quoted with '."""
    text = "" if value is None else str(value)
    return "'" + text if re.match(r"[=+@\t\r]|-[^\d]", text) else text
