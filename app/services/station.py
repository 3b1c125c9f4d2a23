"""The station itself: initialising it, and the status the counter and `status` show."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from app.domain import events
from app.domain.courier import CourierAllowance
from app.domain.devices import DeviceState
from app.domain.rules import BadInput
from app.domain.station import StationInfo
from app.services.context import ServiceContext

_STATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class StationStatus:
    station: str
    site: str
    devices: dict[str, int]
    unsynced_events: int
    last_sync: str | None
    open_reclamation_tasks: int
    allowance: CourierAllowance
    #: this station's own events fetched back from central after a restore from an older copy
    recovered_events: int = 0

    def as_json(self) -> dict:
        return {
            "station": self.station, "site": self.site, "devices": self.devices,
            "unsynced_events": self.unsynced_events, "last_sync": self.last_sync,
            "open_reclamation_tasks": self.open_reclamation_tasks,
            "courier": {"courier_laptops": self.allowance.courier_laptops,
                        "laptops_issued": self.allowance.laptops_issued},
            "recovered_events": self.recovered_events,
        }


def initialise(ctx: ServiceContext, station_id: str, site: str) -> tuple[str, str, bool]:
    """Give a new database its station id and site; returns (station, site, created)."""
    station_id, site = (station_id or "").strip(), (site or "").strip()
    if not _STATION_ID.fullmatch(station_id):
        raise BadInput(f"'{station_id}' is not a station id: use letters, digits, '.', '_', '-'")
    if not site or len(site) > 128:
        raise BadInput("a site name is needed (at most 128 characters)")
    with ctx.uow_factory() as uow:
        existing = uow.station.get()
        if existing is not None:
            if (existing.station_id, existing.site) != (station_id, site):
                raise BadInput(f"this database already belongs to station {existing.station_id} "
                               f"at {existing.site}; use another --data-dir for a new station")
            return existing.station_id, existing.site, False
        uow.station.add(StationInfo(station_id, site, epoch=str(uuid.uuid4())),
                        uow.now().isoformat())
        uow.record(events.DomainEvent(events.STATION_INITIALISED,
                                      {"station": station_id, "site": site}), operator=None)
        uow.commit()
    return station_id, site, True


def station_site(uow) -> str:  # noqa: ANN001 - a unit of work
    station = uow.station.get()
    if station is None:
        raise BadInput("this station is not set up yet: run `exchange-station init --station ID "
                       "--site NAME --admin STAFF_ID --name NAME` first")
    return station.site


def courier_allowance(uow) -> CourierAllowance:  # noqa: ANN001 - a unit of work
    station = uow.station.get()
    if station is None:
        return CourierAllowance()
    return CourierAllowance(station.counter_laptops, station.courier_laptops,
                            station.granted_units, station.released_units)


def status(ctx: ServiceContext) -> StationStatus:
    with ctx.uow_factory(write=False) as uow:
        site = station_site(uow)
        station = uow.station.get()
        counts = uow.devices.counts_by_state()
        return StationStatus(
            station=station.station_id, site=site,
            devices={state.value: counts.get(state.value, 0) for state in DeviceState},
            unsynced_events=uow.unsynced_events(), last_sync=station.last_sync_at,
            open_reclamation_tasks=uow.tasks.open_count() + uow.reports.recovered_open_tasks(),
            allowance=courier_allowance(uow), recovered_events=uow.reports.recovered_count())
