"""R6 at the counter: record a device's disks, certify it with a report, release it.

    certify_report(ctx, actor, "OLD-0001", Path("report.xml"), Validation("L1", pin))
    release(ctx, actor, "OLD-0001", "reuse", "Hutton Primary School")

A report is read before any transaction: an unreadable one is refused (exit 4) and nothing is
recorded. A report that is read but does not release the device (not a pass, not this device,
finished before its return, already used for another device, unvalidated) is kept and goes to
the review queue, and `CertificateRefused` (exit 3, R6) is raised once that is committed: the
device stays blocked. Original files are kept under the data directory (`certificates/`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.certificates import ReadReport, ReportFile, read_certificate_file
from app.certificates.archive import ReportArchive
from app.certificates.manual import ManualEntry, manual_certificate
from app.domain import events
from app.domain.devices import Device, DeviceState
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput, RuleRefused, RuleViolation
from app.domain.sanitisation import (Assessment, Certificate, DeviceEvidence,
                                     RecordedCertificate, Release, ReviewEntry, Route, assess,
                                     normalise_serial_for_match, release_violations)
from app.domain.tags import clean_scan, printable
from app.services import auth
from app.services.context import ServiceContext
from app.services.lookup import resolve_scan
from app.services.station import station_site


@dataclass(frozen=True)
class Validation:
    """A second person's validation as asked for: who, and their PIN."""

    staff_id: str
    pin: str


class CertificateRefused(RuleRefused):
    """R6: the report was read but does not release the device; it is in the review queue."""

    def __init__(self, assessment: Assessment, review_id: int):
        super().__init__([assessment.violation()])
        self.assessment, self.review_id = assessment, review_id
        self.user_message += (f". The report is kept in the review queue (#{review_id}); "
                              f"{assessment.tag} stays blocked")


@dataclass(frozen=True)
class CertifyResult:
    record: RecordedCertificate
    assessment: Assessment
    already_recorded: bool = False

    def as_json(self) -> dict:
        c = self.record.certificate
        return {"certified": self.record.tag, "certificate": self.record.id,
                "report_id": c.certificate_id, "source": c.source,
                "sha256": c.origin.sha256 if c.origin else None, "passed": c.passed,
                "physical_destruction": c.physical_destruction,
                "validated_by": self.record.validated_by, "already_recorded": self.already_recorded,
                "checks": checks_as_json(self.assessment)}


@dataclass(frozen=True)
class BenchView:
    """What the Sanitisation bench shows for a scanned device."""

    device: Device
    known_disks: tuple[str, ...]
    certificate: RecordedCertificate | None
    release: Release | None
    reviews: tuple[ReviewEntry, ...]


def checks_as_json(assessment: Assessment) -> list[dict]:
    return [{"field": c.name, "report": c.report, "device": c.device, "verdict": c.verdict.value,
             "note": c.note} for c in assessment.checks]


# -- known disks ------------------------------------------------------------------------------

def record_known_disks(ctx: ServiceContext, actor: Operator, text: str,
                       disk_serials: tuple[str, ...], system_uuid: str = "") -> dict:
    """Record a device's internal disk serials (and system UUID), read at check-in."""
    actor.require(Permission.CERTIFY)
    serials = tuple(s.strip() for s in disk_serials if s.strip())
    bad = [s for s in serials + ((system_uuid,) if system_uuid else ())
           if not normalise_serial_for_match(s)]
    if bad or not (serials or system_uuid):
        raise BadInput("give the serial of each internal disk as printed on it (anonymised or "
                       f"placeholder serials such as {printable(bad[0]) if bad else 'XXXX'} "
                       "cannot identify a disk)")
    with ctx.uow_factory() as uow:
        device = _device(uow, ctx, text)
        at = uow.now().isoformat()
        added = uow.certificates.add_known(device.tag, "disk", serials, at, actor.staff_id)
        if system_uuid:
            added += uow.certificates.add_known(device.tag, "system_uuid", (system_uuid,), at,
                                                actor.staff_id)
        payload = {"tag": device.tag, "disks": list(serials), "system_uuid": system_uuid or None,
                   "added": added}
        if added:
            uow.record(events.DomainEvent(events.DISKS_RECORDED, payload), actor.staff_id)
        payload["known_disks"] = list(uow.certificates.known_disks(device.tag))
        uow.commit()
    return payload


# -- certify ---------------------------------------------------------------------------------

def read_report_file(path: Path) -> ReadReport:
    """Read a report without recording anything (UnreadableReport, exit 4, if it cannot be)."""
    return read_certificate_file(Path(path))


def preview(ctx: ServiceContext, text: str, certificate: Certificate,
            validated: bool | None = None) -> Assessment:
    """The field-by-field comparison the bench shows before anything is recorded."""
    with ctx.uow_factory(write=False) as uow:
        device = _device(uow, ctx, text)
        return assess(certificate, _evidence(uow, device, certificate, validated))


def certify_report(ctx: ServiceContext, actor: Operator, text: str, path: Path,
                   validation: Validation | None = None) -> CertifyResult:
    actor.require(Permission.CERTIFY)
    validator = _validator(ctx, actor, validation)
    report = read_report_file(path)
    return _certify(ctx, actor, text, report.certificate, report.file, validator)


def certify_manual(ctx: ServiceContext, actor: Operator, text: str, method: str, tool: str,
                   certificate_id: str, disk_serials: tuple[str, ...],
                   validation: Validation | None = None) -> CertifyResult:
    actor.require(Permission.CERTIFY)
    validator = _validator(ctx, actor, validation)
    with ctx.uow_factory(write=False) as uow:
        tag, now = _device(uow, ctx, text).tag, uow.now()
    entry = ManualEntry(tag, method, tool, certificate_id, disk_serials, actor.name)
    certificate, file = manual_certificate(entry, now)
    return _certify(ctx, actor, tag, certificate, file, validator)


def _certify(ctx: ServiceContext, actor: Operator, text: str, certificate: Certificate,
             file: ReportFile, validator: Operator | None) -> CertifyResult:
    archive = ReportArchive(ctx.config.data_dir)
    with ctx.uow_factory() as uow:
        device = _device(uow, ctx, text)
        same = uow.certificates.by_sha(file.sha256)
        if same is not None and same.tag == device.tag:
            return CertifyResult(same, assess(same.certificate, DeviceEvidence(device)), True)
        if device.state is not DeviceState.RETURNED:
            raise RuleRefused([RuleViolation("R6", f"{device.tag} is {device.state.value}: only "
                                             "a returned device awaiting sanitisation is "
                                             "certified")])
        evidence = _evidence(uow, device, certificate, validator is not None)
        assessment = assess(certificate, evidence)
        stored = archive.keep(file)
        if not assessment.accepted:
            review_id = _queue_for_review(uow, actor, assessment, file, stored)
            uow.commit()
            raise CertificateRefused(assessment, review_id)
        record = _record(uow, actor, device, assessment, evidence, stored, validator)
        uow.commit()
    return CertifyResult(record, assessment)


def _record(uow, actor: Operator, device: Device, assessment: Assessment,  # noqa: ANN001
            evidence: DeviceEvidence, stored: str, validator: Operator | None
            ) -> RecordedCertificate:
    seq, now = uow.next_seq(), uow.now()
    c = assessment.certificate
    record = RecordedCertificate(
        str(uuid.uuid4()), device.tag, c, now.isoformat(), actor.staff_id,
        validator.staff_id if validator else None,
        evidence.returned_at.isoformat() if evidence.returned_at else None, station_site(uow),
        stored, assessment.checks)
    uow.certificates.add(record, now.date().isoformat(), seq)
    uow.devices.save(device.moved_to(DeviceState.SANITISED, None), seq)
    resolved = uow.certificates.resolve_reviews(device.tag, now.isoformat(), actor.staff_id)
    uow.record(events.DomainEvent(events.SANITISATION_CERTIFIED, {
        "tag": device.tag, "certificate": record.id, "report_id": c.certificate_id,
        "source": c.source, "sha256": c.origin.sha256 if c.origin else None,
        "filename": c.origin.filename if c.origin else None, "passed": c.passed,
        "method": c.method, "method_category": c.method_category,
        "physical_destruction": c.physical_destruction, "system_serial": c.system_serial,
        "finished_at": c.finished_at.isoformat() if c.finished_at else None,
        "disks": [{"serial": d.serial, "outcome": d.outcome.value, "boot": d.is_boot_media}
                  for d in c.disks],
        "validated_by": record.validated_by, "reviews_resolved": resolved,
        "reader": c.origin.reader if c.origin else None,
        "reader_version": c.origin.reader_version if c.origin else None}), actor.staff_id)
    return record


def _queue_for_review(uow, actor: Operator, assessment: Assessment,  # noqa: ANN001
                      file: ReportFile, stored: str) -> int:
    seq, now = uow.next_seq(), uow.now()
    c = assessment.certificate
    entry = ReviewEntry(0, assessment.tag, c.source, c.certificate_id, file.sha256, file.name,
                        assessment.reasons, actor.staff_id, now.isoformat(), "open",
                        assessment.checks)
    review_id = uow.certificates.add_review(entry, stored, now.date().isoformat(),
                                            station_site(uow), seq)
    uow.record(events.DomainEvent(events.SANITISATION_REVIEW_QUEUED, {
        "tag": assessment.tag, "review": review_id, "report_id": c.certificate_id,
        "source": c.source, "sha256": file.sha256, "filename": file.name,
        "reasons": list(assessment.reasons)}), actor.staff_id)
    return review_id


def _evidence(uow, device: Device, certificate: Certificate,  # noqa: ANN001
              validated: bool | None) -> DeviceEvidence:
    sha = certificate.origin.sha256 if certificate.origin else ""
    others = [t for t in uow.certificates.tags_certified_by(sha, certificate.source,
                                                           certificate.certificate_id)
              if t != device.tag]
    returned = uow.certificates.last_return(device.tag)
    return DeviceEvidence(device, uow.certificates.known_disks(device.tag),
                          uow.certificates.known_uuid(device.tag),
                          datetime.fromisoformat(returned) if returned else None, validated,
                          others[0] if others else None)


def _validator(ctx: ServiceContext, actor: Operator,
               validation: Validation | None) -> Operator | None:
    if validation is None:
        return None
    validator = auth.authorise(ctx, validation.staff_id, validation.pin, Permission.VALIDATE)
    if validator.staff_id == actor.staff_id:
        raise RuleRefused([RuleViolation("R6", "validation must be by a second person, not the "
                                         "operator who records the certificate")])
    return validator


# -- release ---------------------------------------------------------------------------------

def release(ctx: ServiceContext, actor: Operator, text: str, route: str, recipient: str,
            collection: str | None = None, transfer_note: str | None = None) -> Release:
    """Redistribute (reuse) or dispose of (WEEE) a device whose certificate releases it."""
    actor.require(Permission.RELEASE)
    way = _route(route)
    recipient = _reference(recipient, "the recipient (--to NAME)", 200)
    note = _reference(transfer_note, "the waste transfer note", 80) if transfer_note else None
    if note and way is not Route.WEEE:
        raise BadInput("a waste transfer note is for WEEE disposal only")
    with ctx.uow_factory() as uow:
        device = _device(uow, ctx, text)
        record = uow.certificates.latest_for(device.tag)
        returned = uow.certificates.last_return(device.tag)
        violations = release_violations(
            device, record.certificate if record else None, way,
            uow.certificates.known_disks(device.tag),
            datetime.fromisoformat(returned) if returned else None)
        if violations:
            raise RuleRefused(violations)
        released = _store_release(uow, actor, device, record, way, recipient, collection, note)
        uow.commit()
    return released


def _store_release(uow, actor: Operator, device: Device,  # noqa: ANN001
                   record: RecordedCertificate, way: Route, recipient: str,
                   collection: str | None, note: str | None) -> Release:
    seq, now = uow.next_seq(), uow.now()
    station = uow.station.get()
    batch = (_reference(collection, "the collection reference", 80) if collection else
             f"{way.value.upper()}-{station.station_id}-{now:%Y%m%d}-{_slug(recipient)}")
    batch_note = uow.certificates.collection_transfer_note(batch)
    if note and batch_note and note != batch_note:
        raise BadInput(f"collection {batch} already has waste transfer note {batch_note}")
    result = Release(device.tag, way, recipient, batch, note or batch_note, record.id,
                     now.isoformat(), actor.staff_id, station.site)
    state = DeviceState.REDISTRIBUTED if way is Route.REUSE else DeviceState.DISPOSED
    uow.devices.save(device.moved_to(state, None), seq)
    uow.certificates.add_release(result, now.date().isoformat(), seq)
    uow.record(events.DomainEvent(events.DEVICE_RELEASED, release_json(result)), actor.staff_id)
    return result


def release_json(r: Release) -> dict:
    return {"released": r.tag, "route": r.route.value, "to": r.recipient,
            "collection": r.collection, "transfer_note": r.transfer_note,
            "certificate": r.certificate_id, "released_at": r.released_at}


# -- the bench and the review queue ------------------------------------------------------------

def bench_view(ctx: ServiceContext, text: str) -> BenchView:
    with ctx.uow_factory(write=False) as uow:
        device = _device(uow, ctx, text)
        return BenchView(device, uow.certificates.known_disks(device.tag),
                         uow.certificates.latest_for(device.tag),
                         uow.certificates.release_of(device.tag),
                         tuple(uow.certificates.reviews(device.tag)))


def review_queue(ctx: ServiceContext, tag: str | None = None) -> list[ReviewEntry]:
    with ctx.uow_factory(write=False) as uow:
        return uow.certificates.reviews(clean_scan(tag) if tag else None)


def _device(uow, ctx: ServiceContext, text: str) -> Device:  # noqa: ANN001
    scan = resolve_scan(uow, text, ctx.config.tag_pattern)
    if scan.device is None:
        raise BadInput(f"{scan.tag} is not a known device: scan its asset tag")
    return scan.device


def _route(text: str) -> Route:
    try:
        return Route((text or "").strip().lower())
    except ValueError:
        raise BadInput(f"unknown route '{printable(text or '')}': use reuse or weee") from None


def _reference(text: str | None, what: str, limit: int) -> str:
    cleaned = re.sub(r"\s+", " ", (text or "").strip())
    if not cleaned or len(cleaned) > limit or not cleaned.isprintable():
        raise BadInput(f"{what} is needed (at most {limit} printable characters)")
    return cleaned


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")[:30] or "BATCH"
