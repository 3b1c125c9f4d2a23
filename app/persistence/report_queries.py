"""Read-only queries behind the daily swap summary: one site, one local date, plain data out."""

from __future__ import annotations

import json

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.persistence.models import (DeviceRow, EventRow, ExceptionRow, ExchangeItemRow,
                                    ExchangeRow, OperatorRow, PersonRow, ReclamationTaskRow,
                                    RecoveredEventRow, ReleaseRow)
from app.reports.recovered import RecoveredEvent, RecoveredExchange, RecoveredFold, fold, tags_of

_UNSET = object()


def _on(column, date: str):  # noqa: ANN001, ANN202 - an ISO timestamp column
    return func.substr(column, 1, 10) == date


class ReportQueries:
    """The day's figures for one site, read from the station's own database. Events fetched
    back from central after a restore from an older copy (`recovered_events`) count too: only
    the events came back, so what they did is folded in by `app.reports.recovered`."""

    def __init__(self, session: Session):
        self._s = session
        self._folded = _UNSET

    def exchanges_by_type(self, site: str, date: str) -> dict[str, dict[str, int]]:
        """{direction: {device type: count}} for the day's exchanges (issued, returned, lost)."""
        rows = self._s.execute(
            select(ExchangeItemRow.direction, ExchangeItemRow.device_type, func.count())
            .join(ExchangeRow).where(ExchangeRow.site == site, ExchangeRow.local_date == date)
            .group_by(ExchangeItemRow.direction, ExchangeItemRow.device_type))
        out: dict[str, dict[str, int]] = {}
        for direction, kind, count in rows:
            out.setdefault(direction, {})[kind] = count
        recovered = self.recovered()
        for x in self._recovered_exchanges(site, date):
            for direction, tag in x.items:
                kind = recovered.types.get(tag)
                if kind:
                    by_kind = out.setdefault(direction, {})
                    by_kind[kind] = by_kind.get(kind, 0) + 1
        return out


    def exchange_counts(self, site: str, date: str) -> tuple[int, int]:
        """(counter exchanges, courier exchanges) recorded that day."""
        counts = {False: 0, True: 0}
        for courier, n in self._s.execute(select(ExchangeRow.courier, func.count()).where(
                ExchangeRow.site == site, ExchangeRow.local_date == date).group_by(ExchangeRow.courier)):
            counts[bool(courier)] += n
        for x in self._recovered_exchanges(site, date):
            counts[x.courier] += 1
        return counts[False], counts[True]

    def exceptions(self, site: str, date: str) -> list[dict]:
        rows = [(r.occurred_at, r.rule, r.reason, r.authorised_by, r.name, r.staff_id,
                 r.exchange_id) for r in self._s.execute(
            select(ExceptionRow.rule, ExceptionRow.reason, ExceptionRow.authorised_by,
                   OperatorRow.name, ExchangeRow.staff_id, ExchangeRow.exchange_id,
                   ExchangeRow.occurred_at)
            .join(ExchangeRow, ExchangeRow.exchange_id == ExceptionRow.exchange_id)
            .join(OperatorRow, OperatorRow.staff_id == ExceptionRow.authorised_by)
            .where(ExchangeRow.site == site, ExchangeRow.local_date == date)
            .order_by(ExchangeRow.occurred_at, ExceptionRow.rule))]
        recovered = self._recovered_exchanges(site, date)
        if recovered:
            names = self._operator_names()
            rows += [(x.occurred_at, e.get("rule"), e.get("reason"), e.get("authorised_by"),
                      names[e.get("authorised_by")], x.person, x.exchange_id)
                     for x in recovered for e in x.exceptions if e.get("authorised_by") in names]
            rows.sort(key=lambda r: (r[0], r[1]))
        return [{"rule": rule, "reason": reason, "authorised_by": by, "authoriser_name": name,
                 "person": person, "exchange_id": exchange_id, "time": at[11:16]}
                for at, rule, reason, by, name, person, exchange_id in rows]


    def events_of_day(self, date: str, types: tuple[str, ...]) -> list[dict]:
        rows = self._s.execute(select(EventRow.type, EventRow.payload).where(
            EventRow.type.in_(types), _on(EventRow.occurred_at, date)).order_by(EventRow.seq))
        r = RecoveredEventRow
        recovered = self._s.execute(select(r.type, r.payload).where(
            r.type.in_(types), _on(r.occurred_at, date)).order_by(r.occurred_at, r.seq))
        return [{"type": t, "payload": json.loads(p)} for t, p in [*rows, *recovered]]


    def reclamations(self, site: str, date: str) -> tuple[int, int, int]:
        """(raised that day, closed that day, open now) for the site's exchanges."""
        site_task = ReclamationTaskRow.exchange_id.in_(
            select(ExchangeRow.exchange_id).where(ExchangeRow.site == site))
        count = lambda *where: self._s.scalar(select(func.count()).select_from(ReclamationTaskRow)  # noqa: E731
                                        .where(site_task, *where)) or 0
        closed_at = ReclamationTaskRow.closed_at
        raised, closed, still_open = (
            count(_on(ReclamationTaskRow.created_at, date)),
            count(closed_at.is_not(None), _on(closed_at, date)),
            count(ReclamationTaskRow.status == "open"))
        recovered = self.recovered()
        if recovered is None:
            return raised, closed, still_open
        raised += sum(x.raised for x in self._recovered_exchanges(site, date))
        closed += sum(when[:10] == date for _tag, when in recovered.closures)
        return raised, closed, still_open + self.recovered_open_tasks()


    def releases(self, site: str, date: str) -> dict[str, int]:
        rows = self._s.execute(select(ReleaseRow.route, func.count()).where(
            ReleaseRow.site == site, ReleaseRow.local_date == date).group_by(ReleaseRow.route))
        out = dict(rows.all())
        for route, day in (self.recovered() or RecoveredFold()).releases:
            if day == date:  # a station releases at its own site only
                out[route] = out.get(route, 0) + 1
        return out


    def awaiting_sanitisation(self, site: str) -> int:
        return self._s.scalar(select(func.count()).select_from(DeviceRow).where(
            DeviceRow.state == "returned", or_(DeviceRow.site == site, DeviceRow.site.is_(None)))) or 0


    def open_courier_collections(self, site: str) -> list[dict]:
        rows = self._s.execute(
            select(ExchangeRow.staff_id, PersonRow.name, ExchangeItemRow.asset_tag,
                   ExchangeRow.local_date, ExchangeRow.exchange_id)
            .join(ExchangeItemRow).join(PersonRow, PersonRow.staff_id == ExchangeRow.staff_id)
            .where(ExchangeRow.site == site, ExchangeRow.status == "awaiting_collection",
                   ExchangeItemRow.direction == "returned", ExchangeItemRow.collected.is_(False))
            .order_by(ExchangeRow.local_date))
        out = [{"person": r.staff_id, "name": r.name, "tag": r.asset_tag, "since": r.local_date,
                "key": (r.exchange_id, r.asset_tag)} for r in rows]
        recovered = self.recovered()
        if recovered is not None:
            out = [r for r in out if r["key"] not in recovered.collected_here]
            names = dict(self._s.execute(select(PersonRow.staff_id, PersonRow.name).where(
                PersonRow.staff_id.in_({p for p, _s, _d in recovered.awaited.values()}))).all())
            out += [{"person": person, "name": names[person], "tag": tag, "since": since}
                    for (_x, tag), (person, x_site, since) in recovered.awaited.items()
                    if x_site == site and person in names]
            out.sort(key=lambda r: r["since"])
        return [{k: v for k, v in r.items() if k != "key"} for r in out]


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
        out = {op: [name, n] for op, name, n in rows}
        recovered = self._s.execute(
            select(RecoveredEventRow.operator, func.count())
            .where(_on(RecoveredEventRow.occurred_at, date),
                   RecoveredEventRow.operator.is_not(None))
            .group_by(RecoveredEventRow.operator)).all()
        if recovered:
            names = self._operator_names()
            for op, n in recovered:
                if op in names:
                    out.setdefault(op, [names[op], 0])[1] += n
        return [{"staff_id": op, "name": name, "actions": n}
                for op, (name, n) in sorted(out.items())]

    # -- events recovered from central after a restore from an older copy ---------------------

    def recovered(self) -> RecoveredFold | None:
        """What the recovered events did (`app.reports.recovered`); None when there are none."""
        if self._folded is _UNSET:
            r = RecoveredEventRow
            rows = self._s.execute(
                select(r.seq, r.type, r.payload, r.operator, r.occurred_at)
                .order_by(r.occurred_at, r.epoch, r.seq)).all()
            events = [RecoveredEvent(seq, kind, json.loads(payload), op, at)
                      for seq, kind, payload, op, at in rows]
            self._folded = self._fold(events) if events else None
        return self._folded

    def _fold(self, events: list[RecoveredEvent]) -> RecoveredFold:
        first, last = events[0].occurred_at, events[-1].occurred_at
        tags = sorted(tags_of(events))
        types: dict[str, str] = {}
        for start in range(0, len(tags), 500):
            types.update(self._s.execute(select(DeviceRow.asset_tag, DeviceRow.type).where(
                DeviceRow.asset_tag.in_(tags[start:start + 500]))).all())
        # tasks of this station open when the recovered events happened: raised before the
        # first of them, and open now or closed after the last (that is, after the restore)
        open_before = set(self._s.scalars(select(ReclamationTaskRow.asset_tag).where(
            ReclamationTaskRow.created_at < first,
            or_(ReclamationTaskRow.status == "open", ReclamationTaskRow.closed_at > last))))
        return fold(events, types, open_before)

    def _recovered_exchanges(self, site: str, date: str) -> list[RecoveredExchange]:
        recovered = self.recovered()
        if recovered is None:
            return []
        return [x for x in recovered.exchanges if x.site == site and x.day == date]

    def _operator_names(self) -> dict[str, str]:
        names = dict((self.recovered() or RecoveredFold()).names)
        names.update(self._s.execute(select(OperatorRow.staff_id, OperatorRow.name)).all())
        return names

    def recovered_count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(RecoveredEventRow)) or 0

    def recovered_open_tasks(self) -> int:
        """Open reclamation tasks the recovered events add (raised by them and still open),
        less those of this station's open tasks that they closed."""
        recovered = self.recovered()
        if recovered is None:
            return 0
        open_here = set(self._s.scalars(select(ReclamationTaskRow.asset_tag).where(
            ReclamationTaskRow.status == "open")))
        return len(recovered.still_open - open_here) - len(recovered.closed_here & open_here)

    # -- the programme dashboard ---------------------------------------------------------------

    def register_by_site_and_type(self) -> list[tuple[str, str, int]]:
        """(site, type, devices) of the old devices in the register: what is to be refreshed."""
        return [tuple(r) for r in self._s.execute(
            select(func.coalesce(DeviceRow.site, ""), DeviceRow.type, func.count())
            .where(DeviceRow.origin == "register").group_by(DeviceRow.site, DeviceRow.type))]

    def refreshed_by_site_and_type(self) -> list[tuple[str, str, int]]:
        """(site, type, devices) handed back or written off in exchanges: refreshed."""
        rows = [tuple(r) for r in self._s.execute(
            select(ExchangeRow.site, ExchangeItemRow.device_type, func.count()).join(ExchangeRow)
            .where(ExchangeItemRow.direction.in_(("returned", "lost")))
            .group_by(ExchangeRow.site, ExchangeItemRow.device_type))]
        return _merged(rows, ((x.site, self.recovered().types.get(tag))
                              for x, tag in self._recovered_refreshed()))

    def refreshed_by_day(self) -> list[tuple[str, int]]:
        rows = [tuple(r) for r in self._s.execute(
            select(ExchangeRow.local_date, func.count()).join(ExchangeItemRow)
            .where(ExchangeItemRow.direction.in_(("returned", "lost")))
            .group_by(ExchangeRow.local_date).order_by(ExchangeRow.local_date))]
        return _merged(rows, ((x.day,) for x, _tag in self._recovered_refreshed()))

    def _recovered_refreshed(self) -> list[tuple[RecoveredExchange, str]]:
        """(exchange, tag) of every device a recovered exchange took back or wrote off."""
        recovered = self.recovered()
        if recovered is None:
            return []
        return [(x, tag) for x in recovered.exchanges for direction, tag in x.items
                if direction in ("returned", "lost") and recovered.types.get(tag)]

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
        recovered = self.recovered()
        if recovered is not None:
            back = [(tag, x.occurred_at) for x in recovered.exchanges
                    for direction, tag in x.items if direction == "returned"]
            for tag, at in back + recovered.closures + recovered.reclaimed:
                if at > times.get(tag, ""):
                    times[tag] = at
        backlog = self._s.scalars(select(DeviceRow.asset_tag).where(DeviceRow.state == "returned"))
        return sorted(times.get(tag, "") for tag in backlog)

    def exceptions_by_site(self) -> dict[str, int]:
        out = dict(self._s.execute(
            select(ExchangeRow.site, func.count()).join(
                ExceptionRow, ExceptionRow.exchange_id == ExchangeRow.exchange_id)
            .group_by(ExchangeRow.site)).all())
        for x in (self.recovered() or RecoveredFold()).exchanges:
            if x.exceptions:
                out[x.site] = out.get(x.site, 0) + len(x.exceptions)
        return out

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


def _merged(rows: list[tuple], more) -> list[tuple]:  # noqa: ANN001 - an iterable of keys
    """`rows` of (key..., count) with one more counted for each key of `more`, in key order
    when anything was added."""
    counts = {r[:-1]: r[-1] for r in rows}
    added = False
    for key in more:
        counts[key] = counts.get(key, 0) + 1
        added = True
    if not added:
        return rows
    return sorted((*key, n) for key, n in counts.items())
