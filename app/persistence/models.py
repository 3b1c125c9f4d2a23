"""Typed SQLAlchemy models of the station's local database.

The state tables (devices, people, exchanges, tasks) and the append-only `events` outbox are
written in the same transaction by the unit of work. Schema changes go through Alembic
migrations in `db/local/`; these models must match the newest migration.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class StationRow(Base):
    __tablename__ = "station"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[str] = mapped_column(String(36))
    acked_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_sync_at: Mapped[str | None] = mapped_column(String(40))
    granted_units: Mapped[int] = mapped_column(Integer, default=0)
    released_units: Mapped[int] = mapped_column(Integer, default=0)
    #: laptops issued since the station began, over the counter and by courier (R5)
    counter_laptops: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    courier_laptops: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[str] = mapped_column(String(40))
    ref_cursor: Mapped[str | None] = mapped_column(String(120))  # sync: pull cursor


class OperatorRow(Base):
    __tablename__ = "operators"
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))


class PersonRow(Base):
    __tablename__ = "people"
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    site: Mapped[str] = mapped_column(String(128))
    shielding: Mapped[bool] = mapped_column(Boolean, default=False)
    assistive_tech: Mapped[bool] = mapped_column(Boolean, default=False)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)


class DeviceRow(Base):
    __tablename__ = "devices"
    asset_tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    os: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    holder_staff_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.staff_id"), index=True)
    sole_use: Mapped[bool] = mapped_column(Boolean, default=False)
    site: Mapped[str | None] = mapped_column(String(128))
    unit_cost_pence: Mapped[int | None] = mapped_column(Integer)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: "stock" (received new) or "register" (an old device of the register); for the dashboard
    origin: Mapped[str] = mapped_column(String(10), default="register", server_default="register")


class ExchangeRow(Base):
    __tablename__ = "exchanges"
    exchange_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("people.staff_id"), index=True)
    operator: Mapped[str] = mapped_column(ForeignKey("operators.staff_id"))
    site: Mapped[str] = mapped_column(String(128))
    courier: Mapped[bool] = mapped_column(Boolean, default=False)
    at_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24))  # completed | awaiting_collection
    occurred_at: Mapped[str] = mapped_column(String(40), index=True)
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)


class ExchangeItemRow(Base):
    __tablename__ = "exchange_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exchange_id: Mapped[str] = mapped_column(ForeignKey("exchanges.exchange_id"), index=True)
    asset_tag: Mapped[str] = mapped_column(ForeignKey("devices.asset_tag"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # returned | issued | lost
    device_type: Mapped[str] = mapped_column(String(16))
    collected: Mapped[bool] = mapped_column(Boolean, default=False)


class ExceptionRow(Base):
    __tablename__ = "exchange_exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exchange_id: Mapped[str] = mapped_column(ForeignKey("exchanges.exchange_id"), index=True)
    rule: Mapped[str] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(Text)
    authorised_by: Mapped[str] = mapped_column(ForeignKey("operators.staff_id"))


class ReclamationTaskRow(Base):
    __tablename__ = "reclamation_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_tag: Mapped[str] = mapped_column(ForeignKey("devices.asset_tag"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("people.staff_id"))
    exchange_id: Mapped[str] = mapped_column(ForeignKey("exchanges.exchange_id"))
    status: Mapped[str] = mapped_column(String(8), index=True)  # open | closed
    created_at: Mapped[str] = mapped_column(String(40))
    closed_at: Mapped[str | None] = mapped_column(String(40))
    closed_by: Mapped[str | None] = mapped_column(String(32))


class EventRow(Base):
    """The outbox: append-only, one row per action, gap-free `seq` per station."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("event_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36))
    station_id: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40), index=True)
    schema_v: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[str] = mapped_column(String(40))
    #: the station's `last_sync_at` when it was recorded (None: never synced); sync sends it
    #: to central as `expected`, and the Conflicts screen shows it beside the record
    central_seen_at: Mapped[str | None] = mapped_column(String(40))


class RecoveredEventRow(Base):
    """An event of this station fetched back from central after a restore from an older copy
    (SYNC.md 2.3 step 0): counted by the reports, never pushed again. Keyed by (epoch, seq),
    since the outbox's `seq` goes on from the same numbers in the new epoch."""

    __tablename__ = "recovered_events"
    __table_args__ = (UniqueConstraint("event_id"),)
    epoch: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36))
    station_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40), index=True)
    schema_v: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[str] = mapped_column(String(40))
    recovered_at: Mapped[str] = mapped_column(String(40))


# -- sanitisation (R6): known disks, certificates, the review queue, releases -----------------

class DeviceDiskRow(Base):
    """What the station knows of a device's storage: internal disk serials and system UUID."""

    __tablename__ = "device_disks"
    __table_args__ = (UniqueConstraint("asset_tag", "kind", "match_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_tag: Mapped[str] = mapped_column(ForeignKey("devices.asset_tag"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # disk | system_uuid
    value: Mapped[str] = mapped_column(String(128))
    match_key: Mapped[str] = mapped_column(String(128), index=True)
    recorded_at: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(32))


class SanitisationCertificateRow(Base):
    """An approved certificate: one per device per sanitisation; immutable once recorded."""

    __tablename__ = "sanitisation_certificates"
    __table_args__ = (UniqueConstraint("sha256"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    asset_tag: Mapped[str] = mapped_column(ForeignKey("devices.asset_tag"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[str] = mapped_column(String(200), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(100))
    tool_version: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(200))
    method_category: Mapped[str] = mapped_column(String(12))
    passed: Mapped[bool] = mapped_column(Boolean)
    outcome_raw: Mapped[str] = mapped_column(String(100))
    failure_message: Mapped[str] = mapped_column(Text)
    physical_destruction: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[str | None] = mapped_column(String(40))
    finished_at: Mapped[str | None] = mapped_column(String(40))
    system_serial: Mapped[str] = mapped_column(String(128))
    system_uuid: Mapped[str] = mapped_column(String(128))
    system_model: Mapped[str] = mapped_column(String(200))
    operator_name: Mapped[str] = mapped_column(String(200))
    attested_tag: Mapped[str] = mapped_column(String(32))
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    signature: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(32))
    validated_by: Mapped[str | None] = mapped_column(String(32))
    returned_at: Mapped[str | None] = mapped_column(String(40))
    recorded_at: Mapped[str] = mapped_column(String(40))
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    site: Mapped[str] = mapped_column(String(128), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(String(200))
    reader: Mapped[str] = mapped_column(String(40))
    reader_version: Mapped[str] = mapped_column(String(20))
    checks: Mapped[str] = mapped_column(Text)  # JSON: the field-by-field comparison
    event_seq: Mapped[int] = mapped_column(Integer)


class SanitisedMediaRow(Base):
    """One disk in a recorded certificate; boot media are kept but never matched."""

    __tablename__ = "sanitised_media"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("sanitisation_certificates.id"),
                                                index=True)
    serial: Mapped[str] = mapped_column(String(128))
    match_key: Mapped[str] = mapped_column(String(128), index=True)
    model: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(100))
    interface: Mapped[str] = mapped_column(String(40))
    capacity_bytes: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
    outcome_raw: Mapped[str] = mapped_column(String(100))
    is_boot_media: Mapped[bool] = mapped_column(Boolean, default=False)
    other_serials: Mapped[str] = mapped_column(String(400))
    note: Mapped[str] = mapped_column(Text)


class SanitisationReviewRow(Base):
    """A report that was read but refused: the review queue; the device stays blocked."""

    __tablename__ = "sanitisation_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_tag: Mapped[str] = mapped_column(ForeignKey("devices.asset_tag"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(200))
    reasons: Mapped[str] = mapped_column(Text)
    checks: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(40))
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    site: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(10), index=True)  # open | resolved
    resolved_at: Mapped[str | None] = mapped_column(String(40))
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    event_seq: Mapped[int] = mapped_column(Integer)


class ReleaseRow(Base):
    """Where a device went (reuse or WEEE), with which certificate, in which collection."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("asset_tag"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_tag: Mapped[str] = mapped_column(ForeignKey("devices.asset_tag"))
    certificate_id: Mapped[str] = mapped_column(ForeignKey("sanitisation_certificates.id"))
    route: Mapped[str] = mapped_column(String(8), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    collection_ref: Mapped[str] = mapped_column(String(80), index=True)
    transfer_note: Mapped[str | None] = mapped_column(String(80))
    released_at: Mapped[str] = mapped_column(String(40))
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    site: Mapped[str] = mapped_column(String(128))
    operator: Mapped[str] = mapped_column(String(32))
    event_seq: Mapped[int] = mapped_column(Integer)
