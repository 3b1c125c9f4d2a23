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


_EXCEPTIONS = ExceptionRow.__table__


def run_sql(session: Session, statement: str, params: tuple | list = ()):  # noqa: ANN202
    """Run fixed SQL text with bound parameters (SQLite `?`) on the unit of work's own DB-API
    connection, inside its transaction: the counter's hot statements skip SQLAlchemy's
    per-statement machinery. A list of tuples runs as executemany. Returns the sqlite3 cursor."""
    cursor = session.connection().connection.driver_connection.cursor()
    if isinstance(params, list):
        cursor.executemany(statement, params)
    else:
        cursor.execute(statement, params)
    return cursor


_DEVICE_COLUMNS = ("asset_tag, serial, type, model, os, state, holder_staff_id, sole_use, site")


def _device(row: tuple) -> Device:
    """A device from a row of `_DEVICE_COLUMNS`."""
    tag, serial, kind, model, os_name, state, holder, sole_use, site = row
    return Device(tag=tag, serial=serial, type=DeviceType(kind), model=model, os=os_name,
                  state=DeviceState(state), holder=holder, sole_use=bool(sole_use), site=site)


def _person(row: tuple) -> Person:
    """A person from a row of (staff_id, name, site, shielding, assistive_tech)."""
    staff_id, name, site, shielding, assistive_tech = row
    return Person(staff_id=staff_id, name=name, site=site, shielding=bool(shielding),
                  assistive_tech=bool(assistive_tech))


class StationRepository:
    """The station row, read once per unit of work (it changes only through this repository)."""

    def __init__(self, session: Session):
        self._s = session
        self._info: StationInfo | None = None

    def get(self) -> StationInfo | None:
        if self._info is None:
            row = run_sql(self._s, f"SELECT {', '.join(_STATION_COLUMNS)} FROM station "
                                "LIMIT 1").fetchone()
            self._info = StationInfo(*row) if row else None
        return self._info

    def add_laptops(self, counter: int, courier: int) -> None:
        """Count laptops issued (R5's allowance), in the exchange's own transaction."""
        if counter or courier:
            run_sql(self._s, "UPDATE station SET counter_laptops = counter_laptops + ?, "
                 "courier_laptops = courier_laptops + ?", (counter, courier))
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
        row = run_sql(self._s, "SELECT staff_id, name, site, shielding, assistive_tech FROM people "
                   "WHERE staff_id = ?", (staff_id,)).fetchone()
        return _person(row) if row else None

    def search(self, text: str, limit: int = 20) -> list[Person]:
        pattern = f"%{text.strip()}%"
        rows = self._s.execute(select(PersonRow.staff_id, PersonRow.name, PersonRow.site,
                                      PersonRow.shielding, PersonRow.assistive_tech).where(
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
        row = run_sql(self._s, f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE asset_tag = ?",
                   (tag,)).fetchone()
        return _device(row) if row else None

    def by_serial(self, serial: str) -> Device | None:
        rows = run_sql(self._s, f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE serial = ? LIMIT 2",
                    (serial,)).fetchall()
        return _device(rows[0]) if len(rows) == 1 else None

    def held_by(self, staff_id: str) -> list[Device]:
        rows = run_sql(self._s, f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE holder_staff_id = ? "
                    "ORDER BY asset_tag", (staff_id,))
        return [_device(r) for r in rows]

    def existing(self, tags: Iterable[str]) -> set[str]:
        return _existing(self._s, DeviceRow.asset_tag, tags)

    def save(self, device: Device, seq: int) -> None:
        """A device's new state and holder (one UPDATE; a device not yet known is added)."""
        changed = run_sql(self._s, "UPDATE devices SET state = ?, holder_staff_id = ?, "
                       "updated_seq = ? WHERE asset_tag = ?",
                       (device.state.value, device.holder, seq, device.tag))
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
        run_sql(self._s, "INSERT INTO exchanges (exchange_id, staff_id, operator, site, courier, "
             "at_confirmed, status, occurred_at, local_date, event_seq) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (exchange_id, staff_id, operator, site, outcome.courier, at_confirmed,
              "awaiting_collection" if outcome.awaiting_collection else "completed",
              occurred_at.isoformat(), occurred_at.date().isoformat(), seq))
        rows = ([("returned", t) for t in outcome.returned] + [("issued", t) for t in outcome.issued]
                + [("lost", t) for t in outcome.lost])
        run_sql(self._s, "INSERT INTO exchange_items (exchange_id, asset_tag, direction, "
             "device_type, collected) VALUES (?, ?, ?, ?, 0)",
             [(exchange_id, tag, d, types[tag]) for d, tag in rows])
        if outcome.exceptions:
            self._s.execute(_EXCEPTIONS.insert(), [
                {"exchange_id": exchange_id, "rule": e.rule, "reason": e.reason,
                 "authorised_by": e.authorised_by} for e in outcome.exceptions])

    _AWAITED = ("SELECT i.asset_tag FROM exchange_items i JOIN exchanges x USING (exchange_id) "
                "WHERE x.status = 'awaiting_collection' AND i.direction = 'returned' "
                "AND NOT i.collected AND ")

    def awaiting_collection_for(self, staff_id: str) -> tuple[str, ...]:
        return tuple(r[0] for r in run_sql(self._s, self._AWAITED + "x.staff_id = ?", (staff_id,)))

    def awaited_of(self, tags: Iterable[str]) -> frozenset[str]:
        """Which of `tags` an open courier exchange (anyone's) is waiting for."""
        tags = list(tags)
        if not tags:
            return frozenset()
        marks = ", ".join("?" * len(tags))
        return frozenset(r[0] for r in run_sql(self._s, self._AWAITED + f"i.asset_tag IN ({marks})",
                                            tuple(tags)))

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
        marks = ", ".join("?" * len(tags))
        return frozenset(r[0] for r in run_sql(
            self._s, f"SELECT asset_tag FROM reclamation_tasks WHERE status = 'open' "
            f"AND asset_tag IN ({marks})", tuple(tags)))

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
