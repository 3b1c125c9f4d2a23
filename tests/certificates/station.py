"""A station with three laptops handed back and awaiting sanitisation (built once per test
session, copied for each test), and helpers; shared by the certificate and bench UI tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import shutil

import pytest

from app.domain.people import Operator, Role
from app.services import auth, exchanges, imports
from tests.conftest import PINS, SITE, write_csv

#: The returned laptops: tag -> (manufacturer serial, internal disk serials recorded at check-in)
RETURNED = {"OLD-0001": ("5CG1234ABC", ("WD-WX11A1234567",)),
            "OLD-0002": ("5CG7654XYZ", ("S3Z9NB0K123456", "S3Z9NB0K999999")),
            "OLD-0003": ("F4HQJLLCGRY8", ())}


OPERATORS = {"A1": Operator("A1", "Ada Admin", Role.ADMIN),
             "L1": Operator("L1", "Lee Lead", Role.SITE_LEAD),
             "E1": Operator("E1", "Eve Engineer", Role.ENGINEER)}


@dataclass
class Bench:
    station: object
    folder: Path

    @property
    def ctx(self):
        return self.station.context

    def who(self, staff_id: str) -> Operator:
        """The operator, as signing in would give (without paying for the PIN hash again)."""
        return OPERATORS[staff_id]

    def event_count(self) -> int:
        with self.ctx.uow_factory(write=False) as uow:
            return uow.next_seq() - 1

    def state(self, tag: str) -> str:
        with self.ctx.uow_factory(write=False) as uow:
            return uow.devices.get(tag).state.value

    def archived(self) -> list[Path]:
        root = self.ctx.config.data_dir / "certificates"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _build_template(folder: Path) -> None:
    from app.bootstrap import open_station
    from app.services import sanitisation
    from app.services import station as station_service

    opened = open_station(folder, create=True)
    try:
        ctx = opened.context
        station_service.initialise(ctx, "HQ-01", SITE)
        admin = auth.add_operator(ctx, None, "A1", "Ada Admin", "admin", PINS["A1"])
        auth.add_operator(ctx, admin, "L1", "Lee Lead", "site_lead", PINS["L1"])
        auth.add_operator(ctx, admin, "E1", "Eve Engineer", "engineer", PINS["E1"])
        imports.import_people(ctx, admin, write_csv(
            folder, "people.csv", "staff_id,name,site,shielding,assistive_tech",
            "P100,Pat Jones,Hutton HQ,no,no"))
        imports.import_devices(ctx, admin, write_csv(
            folder, "devices.csv", "asset_tag,serial,type,model,os,holder_staff_id,sole_use",
            *(f"{tag},{serial},laptop,EliteBook 840,Windows 8.1,P100,no"
              for tag, (serial, _) in RETURNED.items()),
            "OLD-0009,5CG0000009,laptop,EliteBook 840,Windows 8.1,P100,no"))
        imports.import_stock(ctx, admin, write_csv(
            folder, "stock.csv", "asset_tag,serial,type,model,os,unit_cost",
            *(f"NEW-000{n},NS{n},laptop,Latitude 5440,Windows 11,899.00" for n in range(1, 4))))
        for tag, (_, disks) in RETURNED.items():
            if disks:
                sanitisation.record_known_disks(ctx, admin, tag, disks)
        exchanges.record_exchange(ctx, admin, exchanges.ExchangeCommand(
            "P100", returned=tuple(RETURNED), issued=("NEW-0001", "NEW-0002", "NEW-0003")))
    finally:
        opened.close()


@pytest.fixture(scope="session")
def bench_template(tmp_path_factory) -> Path:
    """Built once: copying it is much faster than signing operators up for every test."""
    folder = tmp_path_factory.mktemp("bench-template") / "station"
    _build_template(folder)
    return folder


@pytest.fixture
def bench(bench_template, tmp_path) -> Bench:
    from app.bootstrap import open_station

    data_dir = tmp_path / "station"
    shutil.copytree(bench_template, data_dir)
    opened = open_station(data_dir)
    folder = tmp_path / "reports"
    folder.mkdir()
    yield Bench(opened, folder)
    opened.close()
