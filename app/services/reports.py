"""The daily swap summary of a site, from the station's own database (works offline)."""

from __future__ import annotations

from datetime import date as Date

from app.domain import events
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput
from app.reports.daily import DailySummary
from app.reports.dashboard import Dashboard
from app.services.context import ServiceContext
from app.services.station import courier_allowance, station_site


def station_site_name(ctx: ServiceContext) -> str:
    with ctx.uow_factory(write=False) as uow:
        return station_site(uow)


def write_csv(path, text: str) -> None:  # noqa: ANN001 - a Path
    """Write a report's CSV, or say plainly why it could not be written."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def parse_date(text: str) -> str:
    try:
        return Date.fromisoformat(text).isoformat()
    except ValueError:
        raise BadInput(f"'{text}' is not a date: use YYYY-MM-DD, for example 2026-11-25") from None


def daily_summary(ctx: ServiceContext, actor: Operator, site: str, day: str) -> DailySummary:
    actor.require(Permission.REPORT)
    day = parse_date(day)
    with ctx.uow_factory(write=False) as uow:
        own_site, now = station_site(uow), uow.now()
        if site.strip().casefold() != own_site.casefold():
            raise BadInput(f"unknown site '{site}': this station keeps {own_site} (for the whole "
                           "programme, report from the central database)")
        if day > now.date().isoformat():
            raise BadInput(f"{day} is in the future: there is nothing to report yet")
        q = uow.reports
        by_type = q.exchanges_by_type(own_site, day)
        counter, courier = q.exchange_counts(own_site, day)
        raised, closed, still_open = q.reclamations(own_site, day)
        day_events = q.events_of_day(day, (events.DEVICE_RECEIVED, events.STOCK_IMPORTED,
                                           events.COURIER_COLLECTED, events.DESKTOP_RECLAIMED))
        allowance = courier_allowance(uow)
        disputed_devices, disputed_people = q.disputed()
        return DailySummary(
            station=uow.station.get().station_id, site=own_site, date=day,
            generated_at=now.strftime("%Y-%m-%d %H:%M"),
            counter_exchanges=counter, courier_exchanges=courier,
            issued=by_type.get("issued", {}), returned=by_type.get("returned", {}),
            lost=by_type.get("lost", {}),
            received_into_stock=_received(day_events),
            courier_collected=_count(day_events, events.COURIER_COLLECTED),
            desktops_reclaimed=_count(day_events, events.DESKTOP_RECLAIMED),
            courier_laptops=allowance.courier_laptops, laptops_issued=allowance.laptops_issued,
            exceptions=tuple(q.exceptions(own_site, day)),
            reclamations_raised=raised, reclamations_closed=closed, reclamations_open=still_open,
            awaiting_sanitisation=q.awaiting_sanitisation(own_site),
            released=q.releases(own_site, day),
            open_collections=tuple(q.open_courier_collections(own_site)),
            disputed_devices=disputed_devices, disputed_people=disputed_people,
            unsynced_events=uow.unsynced_events(), operators=tuple(q.operators_of_day(day)))


def dashboard(ctx: ServiceContext, actor: Operator) -> Dashboard:
    """The programme dashboard as this station sees it (its own database; works offline)."""
    actor.require(Permission.REPORT)
    with ctx.uow_factory(write=False) as uow:
        q, now, info = uow.reports, uow.now(), uow.station.get()
        allowance = courier_allowance(uow)
        spend, received, uncosted = q.spend_pence()
        return Dashboard(
            scope=f"station {info.station_id} ({info.site})",
            generated_at=now.strftime("%Y-%m-%d %H:%M"), today=now.date().isoformat(),
            register={(s, t): n for s, t, n in q.register_by_site_and_type()},
            refreshed={(s, t): n for s, t, n in q.refreshed_by_site_and_type()},
            by_day=tuple(q.refreshed_by_day()),
            courier_laptops=allowance.courier_laptops, laptops_issued=allowance.laptops_issued,
            backlog_returned_at=tuple(q.backlog_returned_at()),
            reclamations_open=uow.tasks.open_count() + q.recovered_open_tasks(),
            exceptions_by_site=q.exceptions_by_site(), spend_pence=spend,
            stock_received_pence=received, uncosted_stock=uncosted)


def _received(day_events: list[dict]) -> int:
    singles = _count(day_events, events.DEVICE_RECEIVED)
    imported = sum(len(e["payload"].get("rows", [])) for e in day_events
                   if e["type"] == events.STOCK_IMPORTED)
    return singles + imported


def _count(day_events: list[dict], kind: str) -> int:
    return sum(e["type"] == kind for e in day_events)
