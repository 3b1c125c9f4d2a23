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

    # -- the programme dashboard ---------------------------------------------------------------

    def register_by_site_and_type(self) -> list[tuple[str, str, int]]:
        """(site, type, devices) of the old devices in the register: what is to be refreshed."""
        return [tuple(r) for r in self._s.execute(
            select(func.coalesce(DeviceRow.site, ""), DeviceRow.type, func.count())
            .where(DeviceRow.origin == "register").group_by(DeviceRow.site, DeviceRow.type))]

    def refreshed_by_site_and_type(self) -> list[tuple[str, str, int]]:
        """(site, type, devices) handed back or written off in exchanges: refreshed."""
        return [tuple(r) for r in self._s.execute(
            select(ExchangeRow.site, ExchangeItemRow.device_type, func.count()).join(ExchangeRow)
            .where(ExchangeItemRow.direction.in_(("returned", "lost")))
            .group_by(ExchangeRow.site, ExchangeItemRow.device_type))]

    def refreshed_by_day(self) -> list[tuple[str, int]]:
        return [tuple(r) for r in self._s.execute(
            select(ExchangeRow.local_date, func.count()).join(ExchangeItemRow)
            .where(ExchangeItemRow.direction.in_(("returned", "lost")))
            .group_by(ExchangeRow.local_date).order_by(ExchangeRow.local_date))]

    def backlog_returned_at(self) -> list[str]:
        """When each device now awaiting sanitisation came back (ISO timestamps, oldest first)."""
        returned = (select(ExchangeItemRow.asset_tag.label("tag"),
                           func.max(ExchangeRow.occurred_at).label("at")).join(ExchangeRow)
                    .where(ExchangeItemRow.direction == "returned")
                    .group_by(ExchangeItemRow.asset_tag))
        reclaimed = (select(ReclamationTaskRow.asset_tag.label("tag"),
                            func.max(ReclamationTaskRow.closed_at).label("at"))
                     .where(ReclamationTaskRow.closed_at.is_not(None))
                     .group_by(ReclamationTaskRow.asset_tag))
        times = dict(self._s.execute(returned).all())
        times.update({t: at for t, at in self._s.execute(reclaimed) if at > times.get(t, "")})
        backlog = self._s.scalars(select(DeviceRow.asset_tag).where(DeviceRow.state == "returned"))
        return sorted(times.get(tag, "") for tag in backlog)

    def exceptions_by_site(self) -> dict[str, int]:
        return dict(self._s.execute(
            select(ExchangeRow.site, func.count()).join(
                ExceptionRow, ExceptionRow.exchange_id == ExchangeRow.exchange_id)
            .group_by(ExchangeRow.site)).all())

    def spend_pence(self) -> tuple[int, int, int]:
        """(cost of new devices issued, cost of stock received, stock devices without a cost)."""
        issued = self._s.scalar(select(func.coalesce(func.sum(DeviceRow.unit_cost_pence), 0))
                                .where(DeviceRow.origin == "stock",
                                       DeviceRow.state != "in_stock")) or 0
        received = self._s.scalar(select(func.coalesce(func.sum(DeviceRow.unit_cost_pence), 0))
                                  .where(DeviceRow.origin == "stock")) or 0
        uncosted = self._s.scalar(select(func.count()).select_from(DeviceRow).where(
            DeviceRow.origin == "stock", DeviceRow.unit_cost_pence.is_(None))) or 0
        return issued, received, uncosted
