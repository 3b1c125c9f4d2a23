"""Sanitisation records seen as domain objects: known disks, certificates, reviews, releases.

Every query uses bound parameters. The return time of a device is read from the event outbox
(the exchange, collection or reclamation that made it `returned`), not from a copy.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import events
from app.domain.sanitisation import (Certificate, FieldCheck, Outcome, RecordedCertificate,
                                     Release, ReportOrigin, ReviewEntry, Route, SanitisedDisk,
                                     Verdict, normalise_serial_for_match)
from app.persistence.models import (DeviceDiskRow, DeviceRow, EventRow, ReleaseRow,
                                    SanitisationCertificateRow, SanitisationReviewRow,
                                    SanitisedMediaRow)

_RETURNS = (events.EXCHANGE_RECORDED, events.COURIER_COLLECTED, events.DESKTOP_RECLAIMED)


def checks_json(checks: tuple[FieldCheck, ...]) -> str:
    return json.dumps([{"name": c.name, "report": c.report, "device": c.device,
                        "verdict": c.verdict.value, "note": c.note} for c in checks])


def _checks(text: str) -> tuple[FieldCheck, ...]:
    return tuple(FieldCheck(c["name"], c["report"], c["device"], Verdict(c["verdict"]),
                            c["note"]) for c in json.loads(text or "[]"))


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class CertificateRepository:
    def __init__(self, session: Session):
        self._s = session

    # -- what is known of a device's storage -------------------------------------------------

    def known_disks(self, tag: str) -> tuple[str, ...]:
        return tuple(self._s.scalars(select(DeviceDiskRow.value).where(
            DeviceDiskRow.asset_tag == tag, DeviceDiskRow.kind == "disk")
            .order_by(DeviceDiskRow.id)))

    def known_uuid(self, tag: str) -> str:
        return self._s.scalars(select(DeviceDiskRow.value).where(
            DeviceDiskRow.asset_tag == tag, DeviceDiskRow.kind == "system_uuid")
            .order_by(DeviceDiskRow.id.desc())).first() or ""

    def add_known(self, tag: str, kind: str, values: tuple[str, ...], at: str,
                  by: str) -> list[str]:
        """Record serials not yet known for `tag`; returns those added."""
        existing = set(self._s.scalars(select(DeviceDiskRow.match_key).where(
            DeviceDiskRow.asset_tag == tag, DeviceDiskRow.kind == kind)))
        added = []
        for value in values:
            key = normalise_serial_for_match(value)
            if key and key not in existing:
                existing.add(key)
                added.append(value)
                self._s.add(DeviceDiskRow(asset_tag=tag, kind=kind, value=value, match_key=key,
                                          recorded_at=at, recorded_by=by))
        return added

    def last_return(self, tag: str) -> str | None:
        """When `tag` was last handed back (ISO time), from the events that return devices."""
        pattern = '%"' + tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
        rows = self._s.execute(select(EventRow.type, EventRow.payload, EventRow.occurred_at)
                               .where(EventRow.type.in_(_RETURNS),
                                      EventRow.payload.like(pattern, escape="\\"))
                               .order_by(EventRow.seq.desc()))
        for kind, payload, occurred_at in rows:
            if _returns(kind, json.loads(payload), tag):
                return occurred_at
        device = self._s.get(DeviceRow, tag)
        if device is None:
            return None
        return self._s.scalar(select(EventRow.occurred_at)
                              .where(EventRow.seq == device.updated_seq))

    # -- certificates ------------------------------------------------------------------------

    def tags_certified_by(self, sha256: str, source: str, report_id: str) -> list[str]:
        """Devices already certified by this file or this report id."""
        return sorted(set(self._s.scalars(select(SanitisationCertificateRow.asset_tag).where(
            (SanitisationCertificateRow.sha256 == sha256)
            | ((SanitisationCertificateRow.source == source)
               & (SanitisationCertificateRow.report_id == report_id))))))

    def add(self, record: RecordedCertificate, local_date: str, seq: int) -> None:
        c, o = record.certificate, record.certificate.origin
        assert o is not None
        self._s.add(SanitisationCertificateRow(
            id=record.id, asset_tag=record.tag, source=c.source, report_id=c.certificate_id,
            sha256=o.sha256, tool=c.tool[:100], tool_version=c.tool_version[:40],
            method=c.method[:200], method_category=c.method_category, passed=c.passed,
            outcome_raw=c.outcome_raw[:100], failure_message=c.failure_message,
            physical_destruction=c.physical_destruction,
            started_at=c.started_at.isoformat() if c.started_at else None,
            finished_at=c.finished_at.isoformat() if c.finished_at else None,
            system_serial=c.system_serial[:128], system_uuid=c.system_uuid[:128],
            system_model=c.system_model[:200], operator_name=c.operator_name[:200],
            attested_tag=c.attested_tag, signed=c.signed, signature=c.signature,
            recorded_by=record.recorded_by, validated_by=record.validated_by,
            returned_at=record.returned_at, recorded_at=record.recorded_at,
            local_date=local_date, site=record.site, filename=o.filename[:255],
            media_type=o.media_type, size_bytes=o.size_bytes, stored_path=record.stored_path,
            reader=o.reader, reader_version=o.reader_version, checks=checks_json(record.checks),
            event_seq=seq))
        self._s.flush()
        self._s.add_all([SanitisedMediaRow(
            certificate_id=record.id, serial=d.serial[:128],
            match_key=normalise_serial_for_match(d.serial)[:128], model=d.model[:200],
            vendor=d.vendor[:100], interface=d.interface[:40], capacity_bytes=d.capacity_bytes,
            outcome=d.outcome.value, outcome_raw=d.outcome_raw[:100],
            is_boot_media=d.is_boot_media, other_serials=",".join(d.other_serials)[:400],
            note=d.note) for d in c.disks])

    def latest_for(self, tag: str) -> RecordedCertificate | None:
        row = self._s.scalars(select(SanitisationCertificateRow)
                              .where(SanitisationCertificateRow.asset_tag == tag)
                              .order_by(SanitisationCertificateRow.recorded_at.desc(),
                                        SanitisationCertificateRow.event_seq.desc())).first()
        return self._recorded(row) if row else None

    def by_sha(self, sha256: str) -> RecordedCertificate | None:
        row = self._s.scalars(select(SanitisationCertificateRow)
                              .where(SanitisationCertificateRow.sha256 == sha256)).first()
        return self._recorded(row) if row else None

    def _recorded(self, row: SanitisationCertificateRow) -> RecordedCertificate:
        media = self._s.scalars(select(SanitisedMediaRow).where(
            SanitisedMediaRow.certificate_id == row.id).order_by(SanitisedMediaRow.id))
        disks = tuple(SanitisedDisk(
            m.serial, m.model, m.vendor, m.interface, m.capacity_bytes, Outcome(m.outcome),
            m.outcome_raw, m.is_boot_media,
            tuple(s for s in m.other_serials.split(",") if s), m.note) for m in media)
        certificate = Certificate(
            certificate_id=row.report_id, system_serial=row.system_serial, disks=disks,
            passed=row.passed, physical_destruction=row.physical_destruction,
            source=row.source, signed=row.signed, signature=row.signature,
            system_uuid=row.system_uuid, system_model=row.system_model, tool=row.tool,
            tool_version=row.tool_version, method=row.method,
            method_category=row.method_category, outcome_raw=row.outcome_raw,
            failure_message=row.failure_message, started_at=_time(row.started_at),
            finished_at=_time(row.finished_at), operator_name=row.operator_name,
            attested_tag=row.attested_tag,
            origin=ReportOrigin(row.filename, row.sha256, row.size_bytes, row.media_type,
                                row.reader, row.reader_version))
        return RecordedCertificate(row.id, row.asset_tag, certificate, row.recorded_at,
                                   row.recorded_by, row.validated_by, row.returned_at,
                                   row.site, row.stored_path, _checks(row.checks))

    # -- the review queue --------------------------------------------------------------------

    def add_review(self, entry: ReviewEntry, stored_path: str, local_date: str, site: str,
                   seq: int) -> int:
        row = SanitisationReviewRow(
            asset_tag=entry.tag, source=entry.source, report_id=entry.report_id[:200],
            sha256=entry.sha256, filename=entry.filename[:255], stored_path=stored_path,
            reasons=json.dumps(list(entry.reasons)), checks=checks_json(entry.checks),
            operator=entry.operator, created_at=entry.created_at, local_date=local_date,
            site=site, status="open", event_seq=seq)
        self._s.add(row)
        self._s.flush()
        return row.id

    def reviews(self, tag: str | None = None, status: str | None = "open") -> list[ReviewEntry]:
        query = select(SanitisationReviewRow).order_by(SanitisationReviewRow.id)
        if tag:
            query = query.where(SanitisationReviewRow.asset_tag == tag)
        if status:
            query = query.where(SanitisationReviewRow.status == status)
        return [ReviewEntry(r.id, r.asset_tag, r.source, r.report_id, r.sha256, r.filename,
                            tuple(json.loads(r.reasons)), r.operator, r.created_at, r.status,
                            _checks(r.checks)) for r in self._s.scalars(query)]

    def resolve_reviews(self, tag: str, at: str, by: str) -> int:
        result = self._s.execute(update(SanitisationReviewRow).where(
            SanitisationReviewRow.asset_tag == tag, SanitisationReviewRow.status == "open")
            .values(status="resolved", resolved_at=at, resolved_by=by))
        return result.rowcount or 0

    # -- releases ----------------------------------------------------------------------------

    def add_release(self, release: Release, local_date: str, seq: int) -> None:
        self._s.add(ReleaseRow(
            asset_tag=release.tag, certificate_id=release.certificate_id,
            route=release.route.value, recipient=release.recipient,
            collection_ref=release.collection, transfer_note=release.transfer_note,
            released_at=release.released_at, local_date=local_date, site=release.site,
            operator=release.operator, event_seq=seq))

    def release_of(self, tag: str) -> Release | None:
        row = self._s.scalars(select(ReleaseRow).where(ReleaseRow.asset_tag == tag)).first()
        if row is None:
            return None
        return Release(row.asset_tag, Route(row.route), row.recipient, row.collection_ref,
                       row.transfer_note, row.certificate_id, row.released_at, row.operator,
                       row.site)

    def collection_transfer_note(self, collection: str) -> str | None:
        return self._s.scalars(select(ReleaseRow.transfer_note).where(
            ReleaseRow.collection_ref == collection, ReleaseRow.transfer_note.is_not(None))
        ).first()

    # -- the register ------------------------------------------------------------------------

    def register(self, site: str | None = None, date_from: str | None = None,
                 date_to: str | None = None) -> list[tuple]:
        """(certificate row, device row, release row or None), newest first."""
        query = (select(SanitisationCertificateRow, DeviceRow, ReleaseRow)
                 .join(DeviceRow, DeviceRow.asset_tag == SanitisationCertificateRow.asset_tag)
                 .outerjoin(ReleaseRow,
                            ReleaseRow.certificate_id == SanitisationCertificateRow.id)
                 .order_by(SanitisationCertificateRow.recorded_at.desc()))
        if site:
            query = query.where(SanitisationCertificateRow.site == site)
        if date_from:
            query = query.where(SanitisationCertificateRow.local_date >= date_from)
        if date_to:
            query = query.where(SanitisationCertificateRow.local_date <= date_to)
        return [tuple(row) for row in self._s.execute(query)]

    def review_rows(self, site: str | None = None, date_from: str | None = None,
                    date_to: str | None = None) -> list[tuple]:
        query = (select(SanitisationReviewRow, DeviceRow)
                 .join(DeviceRow, DeviceRow.asset_tag == SanitisationReviewRow.asset_tag)
                 .order_by(SanitisationReviewRow.id.desc()))
        if site:
            query = query.where(SanitisationReviewRow.site == site)
        if date_from:
            query = query.where(SanitisationReviewRow.local_date >= date_from)
        if date_to:
            query = query.where(SanitisationReviewRow.local_date <= date_to)
        return [tuple(row) for row in self._s.execute(query)]


def _returns(kind: str, payload: dict, tag: str) -> bool:
    if kind == events.EXCHANGE_RECORDED:
        return tag in payload.get("returned", []) and tag not in payload.get(
            "awaiting_collection", [])
    if kind == events.COURIER_COLLECTED:
        return payload.get("collected") == tag
    return payload.get("tag") == tag
