"""The unit of work: one SQLite transaction per action, state rows and events together.

    with uow_factory() as uow:
        uow.devices.save(device, seq)
        uow.record(DomainEvent(...), operator="E100")
        uow.commit()

Leaving the block without `commit()` rolls everything back. `record()` gives each event a
UUID and the next gap-free sequence number of this station; the write lock taken by
BEGIN IMMEDIATE makes that number safe against a second process.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.faults import crash_point
from app.domain.events import SCHEMA_VERSION, DomainEvent, RecordedEvent
from app.persistence.engine import reader
from app.domain.station import StationInfo
from app.persistence.certificate_repository import CertificateRepository
from app.persistence.models import EventRow
from app.persistence.report_queries import ReportQueries
from app.persistence.repositories import run_sql
from app.persistence.repositories import (DeviceRepository, ExchangeRepository,
                                          OperatorRepository, PeopleRepository,
                                          StationRepository, TaskRepository)


class SqlUnitOfWork:
    def __init__(self, engine: Engine, *, write: bool = True):
        self._engine = engine if write else reader(engine)
        self.session: Session | None = None
        self._next_seq: int | None = None
        self._station: StationInfo | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        self.session = Session(self._engine, expire_on_commit=False, autoflush=True)
        self.station = StationRepository(self.session)
        self.operators = OperatorRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.devices = DeviceRepository(self.session)
        self.exchanges = ExchangeRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.certificates = CertificateRepository(self.session)
        self.reports = ReportQueries(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.session is not None
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        assert self.session is not None
        self.session.flush()
        crash_point("before_commit")
        self.session.commit()
        crash_point("after_commit")

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def next_seq(self) -> int:
        """The sequence number the next recorded event will get."""
        if self._next_seq is None:
            assert self.session is not None
            top = run_sql(self.session, "SELECT max(seq) FROM events").fetchone()[0]
            self._next_seq = (top or 0) + 1
        return self._next_seq

    def record(self, event: DomainEvent, operator: str | None) -> RecordedEvent:
        """Append `event` to the outbox in this transaction."""
        assert self.session is not None
        station = self._station or self.station.get()
        if station is None:
            raise RuntimeError("the station is not initialised")
        self._station = station
        seq = self.next_seq()
        payload = json.dumps(event.payload, sort_keys=True, separators=(",", ":"))
        recorded = RecordedEvent(event_id=str(uuid.uuid4()), station_id=station.station_id,
                                 seq=seq, type=event.type, payload=event.payload,
                                 operator=operator, occurred_at=self.now().isoformat())
        run_sql(
            self.session, "INSERT INTO events (seq, event_id, station_id, epoch, type, schema_v, "
            "payload, sha256, operator, occurred_at, central_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, recorded.event_id, station.station_id, station.epoch, event.type,
             SCHEMA_VERSION, payload, hashlib.sha256(payload.encode()).hexdigest(), operator,
             recorded.occurred_at, station.last_sync_at))
        self._next_seq = seq + 1
        return recorded

    def unsynced_events(self) -> int:
        assert self.session is not None
        station = self.station.get()
        acked = station.acked_seq if station else 0
        return self.session.scalar(select(func.count()).select_from(EventRow)
                                   .where(EventRow.seq > acked)) or 0
