"""Sync fixtures: a central database with its schema, and stations that sync to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN, ENGINEER, LEAD, PINS

SITE_A, SITE_B = "Hutton HQ", "Chelmsford"


@pytest.fixture
def central(pg_database: str) -> str:
    from app.sync.central import upgrade_central

    upgrade_central(pg_database)
    return pg_database


@pytest.fixture
def make_station(tmp_path: Path):
    """make_station(station_id, site) -> an opened station with operators A1, L1, E1."""
    from app.bootstrap import open_station
    from app.services import auth
    from app.services import station as station_service

    opened = []

    def make(station_id: str = "HQ-01", site: str = SITE_A):
        st = open_station(tmp_path / station_id, create=True)
        station_service.initialise(st.context, station_id, site)
        admin = auth.add_operator(st.context, None, ADMIN, "Ada Admin", "admin", PINS[ADMIN])
        auth.add_operator(st.context, admin, LEAD, "Lee Lead", "site_lead", PINS[LEAD])
        auth.add_operator(st.context, admin, ENGINEER, "Eve Engineer", "engineer",
                          PINS[ENGINEER])
        opened.append(st)
        return st

    yield make
    for st in opened:
        st.close()


def sign_in(st, staff_id: str = ADMIN):
    from app.services import auth

    return auth.sign_in(st.context, staff_id, PINS[staff_id])



def swap(st, n: int, new: int | None = None, staff: str = "E1", courier: bool = False):
    """Demo person P(1000+n) hands back OLD-n (a laptop unless n % 7 == 0) for NEW-`new`."""
    from app.services.exchanges import ExchangeCommand, record_exchange

    assert n % 7, "demo people with n % 7 == 0 hold tablets"
    return record_exchange(st.context, sign_in(st, staff), ExchangeCommand(
        f"P{1000 + n}", returned=(f"OLD-{n:05d}",), issued=(f"NEW-{new or n:05d}",),
        courier=courier, at_confirmed=True))
