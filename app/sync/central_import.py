"""`import people|devices|stock FILE --central URL`: the same CSV validation, into central.

The local import service (app/services/imports.py) is run unchanged against a unit of work
whose repositories are central's `person_state` and `device_state`: every row is checked the
same way (all or nothing, each bad row named by its line), and the rows go in with one
PostgreSQL transaction. The triggers on those tables log the changes that stations pull.

The rows are written by `central_import_people` / `central_import_devices` (central c0011),
which also keep them in `central_import`, numbered in the order of central's events: the
checker's replay (SYNC.md I5) loads them again at the same point.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from app.domain.devices import Device
from app.domain.people import Operator, Person
from app.domain.station import StationInfo
from app.services import imports
from app.services.context import ServiceContext
from app.services.station import station_site
from app.sync import central

_LOADERS = {"people": imports.import_people, "devices": imports.import_devices,
            "stock": imports.import_stock}


def import_to_central(station_ctx: ServiceContext, actor: Operator, kind: str, path: Path,
                      central_url: str, site: str | None = None) -> imports.ImportResult:
    """Validate `path` as the local import would, and load it into central; all or nothing.
    Devices and stock belong to `site` (default: this station's site)."""
    import psycopg

    if site is None:
        with station_ctx.uow_factory(write=False) as uow:
            site = station_site(uow)
    conn = central.connect(central_url, application_name="import-central")
    try:
        ctx = ServiceContext(functools.partial(_CentralUnit, conn, site, actor.staff_id),
                             station_ctx.config)
        return _LOADERS[kind](ctx, actor, Path(path))
    except psycopg.Error as exc:
        from app.sync.push import central_error

        raise central_error(f"the {kind} import", exc) from None
    finally:
        conn.close()


class _CentralUnit:
    """Just enough of the unit of work for the import service, on a central connection."""

    def __init__(self, conn, site: str, by: str, *, write: bool = True):  # noqa: ANN001
        self._conn = conn
        self.station = _Station(site)
        self.people = _People(conn, by)
        self.devices = _Devices(conn, by)

    def __enter__(self) -> "_CentralUnit":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._conn.rollback()

    def next_seq(self) -> int:
        return 0

    def record(self, event, operator: str | None) -> None:  # noqa: ANN001
        """Central keeps no outbox: the projections' triggers record what changed."""

    def commit(self) -> None:
        self._conn.commit()


class _Station:
    def __init__(self, site: str):
        self._site = site

    def get(self) -> StationInfo:
        return StationInfo("central", self._site, epoch="")


class _People:
    def __init__(self, conn, by: str):  # noqa: ANN001
        self._conn = conn
        self._by = by

    def existing(self, staff_ids: Iterable[str]) -> set[str]:
        return _existing(self._conn, "person_state", "staff_id", staff_ids)

    def upsert_many(self, people: list[Person], existing: set[str]) -> None:
        rows = [{"staff_id": p.staff_id, "name": p.name, "site": p.site,
                 "shielding": p.shielding, "assistive_tech": p.assistive_tech} for p in people]
        _call(self._conn, "central_import_people", rows, self._by)


class _Devices:
    def __init__(self, conn, by: str):  # noqa: ANN001
        self._conn = conn
        self._by = by

    def existing(self, tags: Iterable[str]) -> set[str]:
        return _existing(self._conn, "device_state", "asset_tag", tags)

    def add_many(self, devices: list[Device], seq: int,
                 costs: dict[str, int | None] | None = None) -> None:
        rows = [{"asset_tag": d.tag, "serial": d.serial, "type": d.type.value, "model": d.model,
                 "os": d.os, "state": d.state.value, "holder": d.holder,
                 "sole_use": d.sole_use, "site": d.site,
                 "unit_cost_pence": (costs or {}).get(d.tag)} for d in devices]
        _call(self._conn, "central_import_devices", rows, self._by)


def _call(conn, function: str, rows: list[dict], by: str) -> None:  # noqa: ANN001
    from psycopg.types.json import Jsonb

    # function is one of this module's constants, never user input
    conn.execute(f"SELECT {function}(%s, %s)", (Jsonb(rows), by))


def _existing(conn, table: str, column: str, keys: Iterable[str]) -> set[str]:  # noqa: ANN001
    # table and column are this module's constants, never user input
    rows = conn.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)",
                        (list(keys),)).fetchall()
    return {r[0] for r in rows}
