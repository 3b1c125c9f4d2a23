"""Read-only queries behind the daily swap summary: one site, one local date, plain data out."""

from __future__ import annotations

import json

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.persistence.models import (DeviceRow, EventRow, ExceptionRow, ExchangeItemRow,
                                    ExchangeRow, OperatorRow, PersonRow, ReclamationTaskRow,
                                    ReleaseRow)


def _on(column, date: str):  # noqa: ANN001, ANN202 - an ISO timestamp column
    return func.substr(column, 1, 10) == date


class ReportQueries:
    """The day's figures for one site, read from the station's own database."""

    def __init__(self, session: Session):
        self._s = session

    def exchanges_by_type(self, site: str, date: str) -> dict[str, dict[str, int]]:
        """{direction: {device type: count}} for the day's exchanges (issued, returned, lost)."""
        rows = self._s.execute(
            select(ExchangeItemRow.direction, ExchangeItemRow.device_type, func.count())
            .join(ExchangeRow).where(ExchangeRow.site == site, ExchangeRow.local_date == date)
            .group_by(ExchangeItemRow.direction, ExchangeItemRow.device_type))
        out: dict[str, dict[str, int]] = {}
        for direction, kind, count in rows:
            out.setdefault(direction, {})[kind] = count
        return out


    def exchange_counts(self, site: str, date: str) -> tuple[int, int]:
        """(counter exchanges, courier exchanges) recorded that day."""
        counts = {False: 0, True: 0}
        for courier, n in self._s.execute(select(ExchangeRow.courier, func.count()).where(
                ExchangeRow.site == site, ExchangeRow.local_date == date).group_by(ExchangeRow.courier)):
            counts[bool(courier)] += n
        return counts[False], counts[True]

    def exceptions(self, site: str, date: str) -> list[dict]:
        rows = self._s.execute(
            select(ExceptionRow.rule, ExceptionRow.reason, ExceptionRow.authorised_by,
                   OperatorRow.name, ExchangeRow.staff_id, ExchangeRow.exchange_id,
                   ExchangeRow.occurred_at)
            .join(ExchangeRow, ExchangeRow.exchange_id == ExceptionRow.exchange_id)
            .join(OperatorRow, OperatorRow.staff_id == ExceptionRow.authorised_by)
            .where(ExchangeRow.site == site, ExchangeRow.local_date == date)
            .order_by(ExchangeRow.occurred_at, ExceptionRow.rule))
        return [{"rule": r.rule, "reason": r.reason, "authorised_by": r.authorised_by,
                 "authoriser_name": r.name, "person": r.staff_id, "exchange_id": r.exchange_id,
                 "time": r.occurred_at[11:16]} for r in rows]


    def events_of_day(self, date: str, types: tuple[str, ...]) -> list[dict]:
        rows = self._s.execute(select(EventRow.type, EventRow.payload).where(
            EventRow.type.in_(types), _on(EventRow.occurred_at, date)).order_by(EventRow.seq))
        return [{"type": t, "payload": json.loads(p)} for t, p in rows]


    def reclamations(self, site: str, date: str) -> tuple[int, int, int]:
        """(raised that day, closed that day, open now) for the site's exchanges."""
        site_task = ReclamationTaskRow.exchange_id.in_(
            select(ExchangeRow.exchange_id).where(ExchangeRow.site == site))
        count = lambda *where: self._s.scalar(select(func.count()).select_from(ReclamationTaskRow)  # noqa: E731
                                        .where(site_task, *where)) or 0
        return (count(_on(ReclamationTaskRow.created_at, date)),
                count(ReclamationTaskRow.closed_at.is_not(None), _on(ReclamationTaskRow.closed_at, date)),
                count(ReclamationTaskRow.status == "open"))


    def releases(self, site: str, date: str) -> dict[str, int]:
        rows = self._s.execute(select(ReleaseRow.route, func.count()).where(
            ReleaseRow.site == site, ReleaseRow.local_date == date).group_by(ReleaseRow.route))
        return dict(rows.all())


    def awaiting_sanitisation(self, site: str) -> int:
        return self._s.scalar(select(func.count()).select_from(DeviceRow).where(
            DeviceRow.state == "returned", or_(DeviceRow.site == site, DeviceRow.site.is_(None)))) or 0


    def open_courier_collections(self, site: str) -> list[dict]:
        rows = self._s.execute(
            select(ExchangeRow.staff_id, PersonRow.name, ExchangeItemRow.asset_tag, ExchangeRow.local_date)
            .join(ExchangeItemRow).join(PersonRow, PersonRow.staff_id == ExchangeRow.staff_id)
            .where(ExchangeRow.site == site, ExchangeRow.status == "awaiting_collection",
                   ExchangeItemRow.direction == "returned", ExchangeItemRow.collected.is_(False))
            .order_by(ExchangeRow.local_date))
        return [{"person": r.staff_id, "name": r.name, "tag": r.asset_tag, "since": r.local_date}
                for r in rows]


    def disputed(self) -> tuple[int, int]:
        devices = self._s.scalar(select(func.count()).select_from(DeviceRow).where(DeviceRow.disputed)) or 0
        people = self._s.scalar(select(func.count()).select_from(PersonRow).where(PersonRow.disputed)) or 0
        return devices, people


    def operators_of_day(self, date: str) -> list[dict]:
        rows = self._s.execute(
            select(EventRow.operator, OperatorRow.name, func.count())
            .join(OperatorRow, OperatorRow.staff_id == EventRow.operator)
            .where(_on(EventRow.occurred_at, date)).group_by(EventRow.operator, OperatorRow.name)
            .order_by(EventRow.operator))
        return [{"staff_id": op, "name": name, "actions": n} for op, name, n in rows]
