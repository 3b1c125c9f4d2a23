"""Repositories: the local database seen as domain objects (Device, Person, Operator...).

Every query uses bound parameters; nothing user-supplied is ever put into SQL text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.domain.devices import Device, DeviceState, DeviceType
from app.domain.exchange import ExchangeOutcome
from app.domain.people import Operator, Person, Role
from app.domain.station import ReclamationTask, StationInfo
from app.persistence.models import (DeviceRow, ExceptionRow, ExchangeItemRow, ExchangeRow,
                                    OperatorRow, PersonRow, ReclamationTaskRow, StationRow)


# The counter's hot path uses the tables directly (Core statements skip the ORM's bookkeeping,
# several times cheaper per statement); rows come back as plain named tuples.
_DEVICES = DeviceRow.__table__
_STATION = StationRow.__table__
_EXCHANGES, _ITEMS = ExchangeRow.__table__, ExchangeItemRow.__table__
_EXCEPTIONS, _TASKS = ExceptionRow.__table__, ReclamationTaskRow.__table__


def _device(row) -> Device:  # noqa: ANN001 - a DeviceRow or a Core row of devices
    return Device(tag=row.asset_tag, serial=row.serial, type=DeviceType(row.type),
                  model=row.model, os=row.os, state=DeviceState(row.state),
                  holder=row.holder_staff_id, sole_use=row.sole_use, site=row.site)


def _person(row: PersonRow) -> Person:
    return Person(staff_id=row.staff_id, name=row.name, site=row.site, shielding=row.shielding,
                  assistive_tech=row.assistive_tech)


class StationRepository:
    """The station row, read once per unit of work (it changes only through this repository)."""

    def __init__(self, session: Session):
        self._s = session
        self._info: StationInfo | None = None

    def get(self) -> StationInfo | None:
        if self._info is None:
            row = self._s.execute(select(*(_STATION.c[c] for c in _STATION_COLUMNS))
                                  .limit(1)).first()
            self._info = StationInfo(*row) if row else None
        return self._info

    def add_laptops(self, counter: int, courier: int) -> None:
        """Count laptops issued (R5's allowance), in the exchange's own transaction."""
        if counter or courier:
            self._s.execute(_STATION.update().values(
                counter_laptops=_STATION.c.counter_laptops + counter,
                courier_laptops=_STATION.c.courier_laptops + courier))
            self._info = None

    def add(self, info: StationInfo, created_at: str) -> None:
        self._s.add(StationRow(id=1, station_id=info.station_id, site=info.site,
                               epoch=info.epoch, acked_seq=0, created_at=created_at))
        self._s.flush()
        self._info = None


_STATION_COLUMNS = ("station_id", "site", "epoch", "acked_seq", "last_sync_at",
                    "granted_units", "released_units", "counter_laptops", "courier_laptops")


class OperatorRepository:
    def __init__(self, session: Session):
        self._s = session

    def get(self, staff_id: str) -> tuple[Operator, str] | None:
        row = self._s.get(OperatorRow, staff_id)
        if row is None or not row.active:
            return None
        return Operator(row.staff_id, row.name, Role(row.role)), row.pin_hash

    def exists(self, staff_id: str) -> bool:
        return self._s.get(OperatorRow, staff_id) is not None

    def count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(OperatorRow)) or 0

    def add(self, operator: Operator, pin_hash: str, created_at: str) -> None:
        self._s.add(OperatorRow(staff_id=operator.staff_id, name=operator.name,
                                role=operator.role.value, pin_hash=pin_hash, active=True,
                                created_at=created_at))


class PeopleRepository:
    def __init__(self, session: Session):
        self._s = session

    def get(self, staff_id: str) -> Person | None:
        row = self._s.get(PersonRow, staff_id)
        return _person(row) if row else None

    def search(self, text: str, limit: int = 20) -> list[Person]:
        pattern = f"%{text.strip()}%"
        rows = self._s.scalars(select(PersonRow).where(
            (PersonRow.name.ilike(pattern)) | (PersonRow.staff_id.ilike(pattern))
        ).order_by(PersonRow.name).limit(limit))
        return [_person(r) for r in rows]

    def existing(self, staff_ids: Iterable[str]) -> set[str]:
        return _existing(self._s, PersonRow.staff_id, staff_ids)

    def add_many(self, people: list[Person]) -> None:
        if people:
            self._s.execute(insert(PersonRow), [
                {"staff_id": p.staff_id, "name": p.name, "site": p.site,
                 "shielding": p.shielding, "assistive_tech": p.assistive_tech} for p in people])

    def upsert_many(self, people: list[Person], existing: set[str]) -> None:
        """Add new people; update name, site, shielding and AT of those already known."""
        self.add_many([p for p in people if p.staff_id not in existing])
        for p in (p for p in people if p.staff_id in existing):
            self._s.execute(update(PersonRow).where(PersonRow.staff_id == p.staff_id).values(
                name=p.name, site=p.site, shielding=p.shielding, assistive_tech=p.assistive_tech))

    def count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(PersonRow)) or 0


class DeviceRepository:
    def __init__(self, session: Session):
        self._s = session

    def get(self, tag: str) -> Device | None:
        row = self._s.execute(select(_DEVICES).where(_DEVICES.c.asset_tag == tag)).first()
        return _device(row) if row else None

    def by_serial(self, serial: str) -> Device | None:
        rows = self._s.execute(select(_DEVICES).where(_DEVICES.c.serial == serial).limit(2)).all()
        return _device(rows[0]) if len(rows) == 1 else None

    def held_by(self, staff_id: str) -> list[Device]:
        rows = self._s.execute(select(_DEVICES).where(_DEVICES.c.holder_staff_id == staff_id)
                               .order_by(_DEVICES.c.asset_tag))
        return [_device(r) for r in rows]

    def existing(self, tags: Iterable[str]) -> set[str]:
        return _existing(self._s, DeviceRow.asset_tag, tags)

    def save(self, device: Device, seq: int) -> None:
        """A device's new state and holder (one UPDATE; a device not yet known is added)."""
        changed = self._s.execute(
            _DEVICES.update().where(_DEVICES.c.asset_tag == device.tag)
            .values(state=device.state.value, holder_staff_id=device.holder, updated_seq=seq))
        if changed.rowcount == 0:
            self.add_many([device], seq)

    def add_many(self, devices: list[Device], seq: int,
                 costs: dict[str, int | None] | None = None) -> None:
        if devices:
            self._s.execute(insert(DeviceRow), [
                {"asset_tag": d.tag, "serial": d.serial, "type": d.type.value, "model": d.model,
                 "os": d.os, "state": d.state.value, "holder_staff_id": d.holder,
                 "sole_use": d.sole_use, "site": d.site, "updated_seq": seq,
                 "origin": "stock" if d.state is DeviceState.IN_STOCK else "register",
                 "unit_cost_pence": (costs or {}).get(d.tag)} for d in devices])

    def counts_by_state(self) -> dict[str, int]:
        rows = self._s.execute(select(DeviceRow.state, func.count()).group_by(DeviceRow.state))
        return {state: count for state, count in rows}


class ExchangeRepository:
    def __init__(self, session: Session):
        self._s = session

    def add(self, exchange_id: str, staff_id: str, operator: str, site: str, at_confirmed: bool,
            occurred_at: datetime, seq: int, outcome: ExchangeOutcome,
            types: dict[str, str]) -> None:
        self._s.execute(_EXCHANGES.insert().values(
            exchange_id=exchange_id, staff_id=staff_id, operator=operator, site=site,
            courier=outcome.courier, at_confirmed=at_confirmed,
            status="awaiting_collection" if outcome.awaiting_collection else "completed",
            occurred_at=occurred_at.isoformat(), local_date=occurred_at.date().isoformat(),
            event_seq=seq))
        rows = ([("returned", t) for t in outcome.returned] + [("issued", t) for t in outcome.issued]
                + [("lost", t) for t in outcome.lost])
        self._s.execute(_ITEMS.insert(), [
            {"exchange_id": exchange_id, "asset_tag": tag, "direction": d,
             "device_type": types[tag], "collected": False} for d, tag in rows])
        if outcome.exceptions:
            self._s.execute(_EXCEPTIONS.insert(), [
                {"exchange_id": exchange_id, "rule": e.rule, "reason": e.reason,
                 "authorised_by": e.authorised_by} for e in outcome.exceptions])

    def awaiting_collection_for(self, staff_id: str) -> tuple[str, ...]:
        return self.awaited(_EXCHANGES.c.staff_id == staff_id)

    def awaited_of(self, tags: Iterable[str]) -> frozenset[str]:
        """Which of `tags` an open courier exchange (anyone's) is waiting for."""
        tags = list(tags)
        return frozenset(self.awaited(_ITEMS.c.asset_tag.in_(tags))) if tags else frozenset()

    def awaited(self, condition) -> tuple[str, ...]:  # noqa: ANN001 - a SQL condition
        return tuple(self._s.scalars(
            select(_ITEMS.c.asset_tag).join(_EXCHANGES).where(
                condition, _EXCHANGES.c.status == "awaiting_collection",
                _ITEMS.c.direction == "returned", _ITEMS.c.collected.is_(False))))

    def courier_exchange_awaiting(self, tag: str) -> str | None:
        """The open courier exchange waiting for `tag` to come back, if any."""
        return self._s.scalars(
            select(ExchangeItemRow.exchange_id).join(ExchangeRow).where(
                ExchangeItemRow.asset_tag == tag, ExchangeItemRow.direction == "returned",
                ExchangeItemRow.collected.is_(False),
                ExchangeRow.status == "awaiting_collection")).first()

    def mark_collected(self, exchange_id: str, tag: str) -> tuple[str, ...]:
        """Record `tag` back; returns the tags still awaited by that exchange."""
        self._s.execute(update(ExchangeItemRow).where(
            ExchangeItemRow.exchange_id == exchange_id, ExchangeItemRow.asset_tag == tag,
            ExchangeItemRow.direction == "returned").values(collected=True))
        waiting = tuple(self._s.scalars(select(ExchangeItemRow.asset_tag).where(
            ExchangeItemRow.exchange_id == exchange_id, ExchangeItemRow.direction == "returned",
            ExchangeItemRow.collected.is_(False))))
        if not waiting:
            self._s.execute(update(ExchangeRow).where(ExchangeRow.exchange_id == exchange_id)
                            .values(status="completed"))
        return waiting

    def issued_tags(self, exchange_id: str) -> tuple[str, ...]:
        return tuple(self._s.scalars(select(ExchangeItemRow.asset_tag).where(
            ExchangeItemRow.exchange_id == exchange_id, ExchangeItemRow.direction == "issued")
            .order_by(ExchangeItemRow.id)))


class TaskRepository:
    def __init__(self, session: Session):
        self._s = session

    def open_tags(self, tags: Iterable[str]) -> frozenset[str]:
        tags = list(tags)
        if not tags:
            return frozenset()
        return frozenset(self._s.scalars(select(_TASKS.c.asset_tag).where(
            _TASKS.c.asset_tag.in_(tags), _TASKS.c.status == "open")))

    def open_task(self, tag: str) -> ReclamationTask | None:
        row = self._open_row(tag)
        return _task(row) if row else None

    def add(self, tag: str, staff_id: str, exchange_id: str, created_at: str) -> None:
        self._s.add(ReclamationTaskRow(asset_tag=tag, staff_id=staff_id, exchange_id=exchange_id,
                                       status="open", created_at=created_at))

    def close(self, tag: str, closed_at: str, closed_by: str) -> None:
        row = self._open_row(tag)
        if row is not None:
            row.status, row.closed_at, row.closed_by = "closed", closed_at, closed_by

    def _open_row(self, tag: str) -> ReclamationTaskRow | None:
        return self._s.scalars(select(ReclamationTaskRow).where(
            ReclamationTaskRow.asset_tag == tag, ReclamationTaskRow.status == "open")).first()

    def open_count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(ReclamationTaskRow)
                              .where(ReclamationTaskRow.status == "open")) or 0

    def list_open(self) -> list[ReclamationTask]:
        return [_task(r) for r in self._s.scalars(select(ReclamationTaskRow)
                                                  .where(ReclamationTaskRow.status == "open")
                                                  .order_by(ReclamationTaskRow.id))]


def _existing(session: Session, column, values: Iterable[str]) -> set[str]:  # noqa: ANN001
    values = list(values)
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _task(row: ReclamationTaskRow) -> ReclamationTask:
    return ReclamationTask(row.id, row.asset_tag, row.staff_id, row.exchange_id, row.status,
                           row.created_at)
